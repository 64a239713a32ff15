// Conntrack over ctnetlink (libmnl): one parser for entries, used by the
// table dump (cutting an isolated device's flows, resynchronising after lost
// events) and by the NEW-event listener (learning observed flows).
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <vector>

#include "netlink/handles.h"
#include "policy/net_types.h"

namespace ringfence::netlink {

struct CtFlow {
  uint8_t family = 0;
  policy::IpAddress src, dst;  // original direction
  uint8_t proto = 0;
  uint16_t sport = 0, dport = 0;
  uint32_t mark = 0;
  std::vector<char> tupleOrig;  // the CTA_TUPLE_ORIG attribute, to delete the entry
};

// Parses one ctnetlink message (a dump entry or an event); nothing if malformed.
std::optional<CtFlow> parseConntrackMessage(const nlmsghdr* nlh);

// Every entry in the table.
std::expected<std::vector<CtFlow>, std::string> dumpConntrack();

// Deletes every entry whose original source or destination is one of
// `addresses`, except entries whose mark has any of `keepMarkBits` (flows
// admitted by a critical rule). Returns how many were deleted.
std::expected<size_t, std::string> deleteConntrackFlows(
    const std::vector<policy::IpAddress>& addresses, uint32_t keepMarkBits);

// New conntrack entries as they are created.
class ConntrackEvents {
 public:
  static std::expected<ConntrackEvents, std::string> open();
  int fd() const;
  // Pending events, without blocking; `lost` is set when the kernel dropped
  // events for us (ENOBUFS): the caller must resynchronise with dumpConntrack.
  std::vector<CtFlow> read(bool& lost);

 private:
  explicit ConntrackEvents(MnlSocketPtr s) : socket_(std::move(s)) {}
  MnlSocketPtr socket_;
};

}  // namespace ringfence::netlink
