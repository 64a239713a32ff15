// libFuzzer target for the netlink message parsers: any bytes, read as a
// netlink message, must parse or be refused without crashing, hanging or
// reading outside the message.
#include <linux/netlink.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "netlink/conntrack.h"
#include "netlink/nflog.h"

using namespace ringfence::netlink;

// Ports are only ever reported for TCP and UDP.
static void check(bool parsed, const LoggedPacket& p) {
  if (parsed && p.proto != 6 && p.proto != 17 && (p.sport || p.dport)) __builtin_trap();
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The message as the kernel would hand it: a header whose length is the buffer's.
  std::vector<uint8_t> buf(sizeof(nlmsghdr) + size);
  auto* nlh = reinterpret_cast<nlmsghdr*>(buf.data());
  uint16_t type = size >= 2 ? static_cast<uint16_t>(data[0] << 8 | data[1]) : 0;
  nlh->nlmsg_len = static_cast<uint32_t>(buf.size());
  // Steer half the inputs to each parser's message type, keep the rest arbitrary.
  nlh->nlmsg_type =
      (type & 1) ? static_cast<uint16_t>(0x0400) : static_cast<uint16_t>(0x0100 | (type >> 8));
  if (size) std::memcpy(buf.data() + sizeof(nlmsghdr), data, size);
  (void)parseLogMessage(nlh);
  (void)parseConntrackMessage(nlh);
  LoggedPacket p;
  check(parsePacket(data, size, p), p);
  // The same bytes as an IPv6 packet, so the extension header walk gets most inputs.
  if (size >= 40) {
    std::vector<uint8_t> v6(data, data + size);
    v6[0] = static_cast<uint8_t>(0x60 | (v6[0] & 0x0f));
    LoggedPacket q;
    check(parsePacket(v6.data(), v6.size(), q), q);
  }
  return 0;
}
