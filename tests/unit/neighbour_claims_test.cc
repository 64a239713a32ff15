// The claim in an ARP or neighbour discovery frame (netlink/neighbour_claims.h).
#include "netlink/neighbour_claims.h"

#include <gtest/gtest.h>

#include <vector>

namespace ringfence::netlink {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes ether(uint16_t type, Bytes src = {2, 0, 0, 0, 0, 0x10}) {
  Bytes f = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  f.insert(f.end(), src.begin(), src.end());
  f.push_back(static_cast<uint8_t>(type >> 8));
  f.push_back(static_cast<uint8_t>(type));
  return f;
}

Bytes arp(uint8_t op, Bytes sha, Bytes spa, Bytes tha, Bytes tpa) {
  Bytes f = ether(0x0806);
  Bytes h = {0, 1, 8, 0, 6, 4, 0, op};
  for (const Bytes* b : {&h, &sha, &spa, &tha, &tpa}) f.insert(f.end(), b->begin(), b->end());
  return f;
}

Bytes v6(uint8_t last) {
  Bytes a = {0x20, 0x01, 0x0d, 0xb8, 0x01, 0x00};
  a.resize(15, 0);
  a.push_back(last);
  return a;
}

Bytes nd(uint8_t type, Bytes src, Bytes target, Bytes option) {
  Bytes f = ether(0x86dd);
  Bytes ip = {0x60, 0, 0, 0, 0, static_cast<uint8_t>(24 + option.size()), 58, 255};
  f.insert(f.end(), ip.begin(), ip.end());
  f.insert(f.end(), src.begin(), src.end());
  Bytes dst = {0xff, 0x02};
  dst.resize(15, 0);
  dst.push_back(1);
  f.insert(f.end(), dst.begin(), dst.end());
  Bytes icmp = {type, 0, 0, 0, 0x20, 0, 0, 0};
  f.insert(f.end(), icmp.begin(), icmp.end());
  f.insert(f.end(), target.begin(), target.end());
  f.insert(f.end(), option.begin(), option.end());
  return f;
}

std::optional<NeighbourClaim> parse(const Bytes& f) {
  return parseNeighbourClaim(f.data(), f.size(), 7);
}

TEST(NeighbourClaims, GratuitousArpClaimsTheSenderAddress) {
  Bytes mac = {2, 0, 0, 0, 0, 0x10}, ip = {198, 51, 100, 30};
  auto c = parse(arp(2, mac, ip, mac, ip));
  ASSERT_TRUE(c);
  EXPECT_EQ(policy::toString(c->address), "198.51.100.30");
  EXPECT_EQ(policy::toString(c->mac), "02:00:00:00:00:10");
  EXPECT_STREQ(c->what, "gratuitous ARP");
  EXPECT_EQ(c->ifindex, 7);
}

TEST(NeighbourClaims, ArpRequestAndReplyClaimTheirSender) {
  Bytes mac = {2, 0, 0, 0, 0, 0x50}, zero(6, 0);
  auto req = parse(arp(1, mac, {198, 51, 100, 50}, zero, {198, 51, 100, 1}));
  ASSERT_TRUE(req);
  EXPECT_STREQ(req->what, "ARP request");
  EXPECT_EQ(policy::toString(req->address), "198.51.100.50");
  auto rep = parse(arp(2, mac, {198, 51, 100, 50}, zero, {198, 51, 100, 1}));
  ASSERT_TRUE(rep);
  EXPECT_STREQ(rep->what, "ARP reply");
}

TEST(NeighbourClaims, ProbesAndMalformedFramesClaimNothing) {
  Bytes mac = {2, 0, 0, 0, 0, 0x50}, zero(6, 0);
  EXPECT_FALSE(parse(arp(1, mac, {0, 0, 0, 0}, zero, {198, 51, 100, 50})));  // DAD probe
  Bytes f = arp(2, mac, {198, 51, 100, 50}, mac, {198, 51, 100, 50});
  f.resize(f.size() - 1);
  EXPECT_FALSE(parse(f));
  EXPECT_FALSE(parse(arp(3, mac, {198, 51, 100, 50}, mac, {198, 51, 100, 50})));  // RARP
  EXPECT_FALSE(parse(Bytes(10, 0)));
}

TEST(NeighbourClaims, AdvertisementClaimsTheTargetWithItsOption) {
  Bytes option = {2, 1, 2, 0, 0, 0, 0, 0x66};
  auto c = parse(nd(136, v6(0x66), v6(0x30), option));
  ASSERT_TRUE(c);
  EXPECT_EQ(policy::toString(c->address), "2001:db8:100::30");
  EXPECT_EQ(policy::toString(c->mac), "02:00:00:00:00:66");
  EXPECT_STREQ(c->what, "neighbour advertisement");
  auto bare = parse(nd(136, v6(0x66), v6(0x30), {}));  // no option: the frame's source
  ASSERT_TRUE(bare);
  EXPECT_EQ(policy::toString(bare->mac), "02:00:00:00:00:10");
}

TEST(NeighbourClaims, SolicitationClaimsItsSourceOnlyWithAnOption) {
  Bytes option = {1, 1, 2, 0, 0, 0, 0, 0x50};
  auto c = parse(nd(135, v6(0x50), v6(0x01), option));
  ASSERT_TRUE(c);
  EXPECT_EQ(policy::toString(c->address), "2001:db8:100::50");
  EXPECT_EQ(policy::toString(c->mac), "02:00:00:00:00:50");
  EXPECT_FALSE(parse(nd(135, v6(0x50), v6(0x01), {})));
  EXPECT_FALSE(parse(nd(135, Bytes(16, 0), v6(0x01), option)));  // DAD
  Bytes zeroLength = {1, 0, 2, 0, 0, 0, 0, 0x50};
  EXPECT_FALSE(parse(nd(135, v6(0x50), v6(0x01), zeroLength)));
}

}  // namespace
}  // namespace ringfence::netlink
