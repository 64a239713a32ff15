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
  (void)parsePacket(data, size, p);
  return 0;
}
