#include "daemon/packet_counters.h"

#include <unordered_map>

#include "daemon/log.h"
#include "netlink/set_elements.h"
#include "policy/plan.h"

namespace ringfence::daemon {

uint64_t PacketCounters::allowed(const policy::Policy& policy, const std::string& table,
                                 const std::string& device, Clock::time_point now) {
  if (!readAt_ || now - *readAt_ >= std::chrono::seconds(1)) {
    readAt_ = now;
    refresh(policy, table);
  }
  auto it = byDevice_.find(device);
  return it == byDevice_.end() ? 0 : it->second;
}

void PacketCounters::refresh(const policy::Policy& policy, const std::string& table) {
  byDevice_.clear();
  auto unreadable = [this](const netlink::KernelError& e) {  // said once until it works again
    if (!warned_)
      log(LogLevel::Warning, "counters-unreadable", "cannot read packet counters: " + e.message());
    warned_ = true;
  };
  if (!socket_) {
    auto s = netlink::NftSocket::open();
    if (!s) return unreadable(s.error());
    socket_.emplace(std::move(*s));
  }
  std::unordered_map<std::string, uint64_t> byKey;
  for (const char* set : {policy::setname::kCount4, policy::setname::kCount6}) {
    auto got = netlink::readSetElements(*socket_, table, set);
    if (!got) return unreadable(got.error());
    for (const netlink::KernelElement& c : *got)
      byKey[std::string(c.key.begin(), c.key.end())] = c.packets;
  }
  warned_ = false;
  for (const policy::Device& d : policy.devices) {
    uint64_t sum = 0;
    for (const policy::IpAddress& a : d.addresses) {
      auto it = byKey.find(std::string(a.bytes.begin(), a.bytes.begin() + a.size()));
      if (it != byKey.end()) sum += it->second;
    }
    byDevice_[d.name] = sum;
  }
}

}  // namespace ringfence::daemon
