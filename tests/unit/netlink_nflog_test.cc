// The NFLOG packet parser: protocol and ports behind IPv6 extension headers
// and fragments, as the violation and probe judges see them.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "netlink/nflog.h"

namespace ringfence::netlink {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes tcpPorts(uint16_t sport, uint16_t dport) {
  Bytes b = {static_cast<uint8_t>(sport >> 8), static_cast<uint8_t>(sport),
             static_cast<uint8_t>(dport >> 8), static_cast<uint8_t>(dport)};
  b.resize(20, 0);
  return b;
}

Bytes ipv6(uint8_t next, const Bytes& rest) {
  Bytes b(40, 0);
  b[0] = 0x60;
  b[6] = next;
  b[7] = 64;
  b[8] = 0x20, b[9] = 0x01, b[10] = 0x0d, b[11] = 0xb8, b[23] = 0x10;  // 2001:db8::10
  b[24] = 0x20, b[25] = 0x01, b[26] = 0x0d, b[27] = 0xb8, b[39] = 0x20;
  b.insert(b.end(), rest.begin(), rest.end());
  return b;
}

// An options header (hop-by-hop, routing, destination options) of `units` * 8 + 8 bytes.
Bytes options(uint8_t next, uint8_t units) {
  Bytes b((units + 1) * 8, 0);
  b[0] = next;
  b[1] = units;
  return b;
}
Bytes fragment(uint8_t next, uint16_t offsetUnits, bool more) {
  uint16_t v = static_cast<uint16_t>(offsetUnits << 3 | (more ? 1 : 0));
  return {next, 0, static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v), 0, 0, 0, 42};
}
Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

LoggedPacket parse(const Bytes& b) {
  LoggedPacket p;
  EXPECT_TRUE(parsePacket(b.data(), b.size(), p));
  return p;
}

TEST(NflogParse, Ipv6PlainTcp) {
  LoggedPacket p = parse(ipv6(6, tcpPorts(40000, 443)));
  EXPECT_EQ(p.proto, 6);
  EXPECT_EQ(p.sport, 40000);
  EXPECT_EQ(p.dport, 443);
}

TEST(NflogParse, Ipv6DestinationOptionsBeforeTcp) {
  LoggedPacket p = parse(ipv6(60, cat({options(6, 0), tcpPorts(40000, 22)})));
  EXPECT_EQ(p.proto, 6);
  EXPECT_EQ(p.dport, 22);
}

TEST(NflogParse, Ipv6ChainOfEveryKind) {
  // hop-by-hop -> routing -> destination options -> AH -> fragment (first) -> UDP
  Bytes ah = {44, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};  // (1 + 2) * 4 = 12 bytes
  Bytes b = ipv6(0, cat({options(43, 0), options(60, 1), options(51, 0), ah, fragment(17, 0, true),
                         tcpPorts(5353, 123)}));
  LoggedPacket p = parse(b);
  EXPECT_EQ(p.proto, 17);
  EXPECT_EQ(p.sport, 5353);
  EXPECT_EQ(p.dport, 123);
}

TEST(NflogParse, Ipv6NonFirstFragmentShowsNoPorts) {
  LoggedPacket p = parse(ipv6(44, cat({fragment(6, 10, false), tcpPorts(1, 2)})));
  EXPECT_EQ(p.proto, 6);
  EXPECT_EQ(p.sport, 0);
  EXPECT_EQ(p.dport, 0);
}

TEST(NflogParse, Ipv6EspAndNoNextHeaderEndTheWalk) {
  EXPECT_EQ(parse(ipv6(60, cat({options(50, 0), tcpPorts(1, 2)}))).proto, 50);
  LoggedPacket none = parse(ipv6(60, cat({options(59, 0), tcpPorts(1, 2)})));
  EXPECT_EQ(none.proto, 59);
  EXPECT_EQ(none.dport, 0);
}

TEST(NflogParse, Ipv6TruncatedChainShowsWhatWasSeen) {
  // The destination options header claims 2048 bytes: the ports are beyond the capture.
  Bytes longHeader = {6, 255, 0, 0, 0, 0, 0, 0};
  LoggedPacket p = parse(ipv6(60, cat({longHeader, tcpPorts(1, 2)})));
  EXPECT_EQ(p.proto, 6);  // the next header was read; its ports were not captured
  EXPECT_EQ(p.dport, 0);
  LoggedPacket cut = parse(ipv6(60, {6}));  // not even the header's length byte
  EXPECT_EQ(cut.proto, 60);
  EXPECT_EQ(cut.dport, 0);
}

TEST(NflogParse, Ipv6EndlessChainStaysBounded) {
  Bytes rest;
  for (int i = 0; i < 40; ++i) rest = cat({rest, options(60, 0)});
  LoggedPacket p = parse(ipv6(60, rest));
  EXPECT_EQ(p.proto, 60);
  EXPECT_EQ(p.dport, 0);
}

Bytes ipv4(uint8_t proto, uint16_t fragField, const Bytes& rest) {
  Bytes b(20, 0);
  b[0] = 0x45;
  b[6] = static_cast<uint8_t>(fragField >> 8);
  b[7] = static_cast<uint8_t>(fragField);
  b[8] = 64;
  b[9] = proto;
  b[12] = 198, b[13] = 51, b[14] = 100, b[15] = 10;
  b[16] = 203, b[17] = 0, b[18] = 113, b[19] = 99;
  b.insert(b.end(), rest.begin(), rest.end());
  return b;
}

TEST(NflogParse, Ipv4FragmentsOnlyTheFirstShowsPorts) {
  LoggedPacket first = parse(ipv4(6, 0x2000, tcpPorts(40000, 445)));  // MF, offset 0
  EXPECT_EQ(first.dport, 445);
  LoggedPacket later = parse(ipv4(6, 0x0010, tcpPorts(40000, 445)));  // offset 16 * 8
  EXPECT_EQ(later.proto, 6);
  EXPECT_EQ(later.sport, 0);
  EXPECT_EQ(later.dport, 0);
}

// The bridge table logs ARP frames: the claim's sender and target address.
TEST(NflogParse, ArpFrame) {
  Bytes arp = {
      0,    1,    8,    0,    6,    4,    0,  2,          // Ethernet, IPv4, reply
      2,    0,    0,    0,    0,    0x66, 10, 20, 0, 20,  // sender MAC, sender IP 10.20.0.20
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 10, 20, 0, 20};
  LoggedPacket p = parse(arp);
  EXPECT_TRUE(p.arp);
  EXPECT_EQ(policy::toString(p.src), "10.20.0.20");
  EXPECT_EQ(policy::toString(p.dst), "10.20.0.20");
  EXPECT_EQ(p.proto, 0);
  Bytes other = arp;
  other[3] = 0x06;  // not IPv4 over Ethernet: neither ARP as logged nor IP
  LoggedPacket q;
  EXPECT_FALSE(parsePacket(other.data(), other.size(), q));
  EXPECT_FALSE(parsePacket(arp.data(), 27, q)) << "truncated";
}

TEST(NflogParse, NeighbourAdvertisementTarget) {
  Bytes na(24, 0);
  na[0] = 136;
  na[8] = 0x20, na[9] = 0x01, na[10] = 0x0d, na[11] = 0xb8, na[23] = 0x20;  // 2001:db8::20
  LoggedPacket p = parse(ipv6(58, na));
  ASSERT_TRUE(p.ndTarget);
  EXPECT_EQ(policy::toString(*p.ndTarget), "2001:db8::20");
  na[0] = 135;  // a solicitation claims nothing
  EXPECT_FALSE(parse(ipv6(58, na)).ndTarget);
}

}  // namespace
}  // namespace ringfence::netlink
