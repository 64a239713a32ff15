// Neighbour pinning: after every policy applied, each address of a MAC-bound
// device gets a permanent neighbour entry (ARP or NDP) with the profile's MAC
// on the device's interface, so that gratuitous ARP or an unsolicited
// neighbour advertisement from another host cannot divert its traffic. Pins of
// devices that left the policy or lost their MAC are removed, also those an
// earlier run left behind (the kernel marks them as ours). Claims for a pinned
// address from another MAC, and for the gateway's own addresses, seen on the
// device interfaces are reported. See docs/neighbours.md.
#pragma once

#include <systemd/sd-event.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "netlink/neighbour_claims.h"
#include "netlink/neighbours.h"
#include "policy/model.h"
#include "policy/violations.h"

namespace ringfence::daemon {

class Neighbours {
 public:
  Neighbours() = default;  // no I/O until the first sync
  Neighbours(const Neighbours&) = delete;
  Neighbours& operator=(const Neighbours&) = delete;
  ~Neighbours();
  // Makes the kernel's pins what `policy` says and watches its device
  // interfaces; failures are logged, never fatal (the ruleset in force does
  // not depend on them).
  void sync(const policy::Policy& policy);
  // Where claims are read from; until then sync only pins.
  void attach(sd_event* loop);

  static constexpr std::chrono::seconds kReportEvery{60};  // per sender MAC and address
  static constexpr size_t kMaxReported = 4096;             // bounded memory
  // Addresses that cannot be pinned: each reported once, at most this many per apply.
  static constexpr size_t kMaxSkipReports = 20;

 private:
  struct Pinned {
    policy::MacAddress mac;
    std::string device;
  };
  // Sorted by key and looked up by halving: one block for 100,000 devices, not a node each.
  template <typename K, typename V>
  using Sorted = std::vector<std::pair<K, V>>;
  template <typename K, typename V>
  static const V* find(const Sorted<K, V>& in, const K& key) {
    auto it = std::lower_bound(in.begin(), in.end(), key,
                               [](const auto& e, const K& k) { return e.first < k; });
    return it != in.end() && it->first == key ? &it->second : nullptr;
  }
  void pin(const policy::Policy& policy);
  void watch(const std::set<int>& ifindexes);
  void onClaim(const netlink::NeighbourClaim& c, policy::WallTime now);
  static int onReadable(sd_event_source*, int fd, uint32_t, void* self) noexcept;

  std::optional<netlink::NeighbourTable> table_;
  sd_event* loop_ = nullptr;
  std::optional<netlink::NeighbourClaims> claims_;
  std::vector<sd_event_source*> sources_;
  std::set<int> watched_;
  Sorted<policy::IpAddress, Pinned> pinned_;          // by address
  Sorted<policy::IpAddress, Pinned> unpinned_;        // wanted, but the kernel refused
  Sorted<policy::MacAddress, std::string> macOwner_;  // device of each bound MAC
  std::set<policy::IpAddress> own_;                   // the gateway's addresses
  std::set<std::string> skipped_;                     // why addresses were not pinned
  size_t unpinnable_ = 0;                             // addresses not pinned for those
  std::map<std::pair<policy::MacAddress, policy::IpAddress>, policy::WallTime> reported_;
  std::map<std::pair<policy::MacAddress, policy::IpAddress>, uint64_t> suppressed_;
};

}  // namespace ringfence::daemon
