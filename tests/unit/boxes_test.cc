#include "policy/boxes.h"

#include <gtest/gtest.h>

#include <random>

namespace ringfence::policy {
namespace {

IpPrefix v4(uint8_t last, int length) {
  IpPrefix p;
  p.address.family = Family::V4;
  p.address.bytes = {10, 0, 0, last};
  p.length = length;
  return p;
}

bool covers(const std::vector<PeerPortBox>& boxes, const IpAddress& a, uint16_t port) {
  for (const PeerPortBox& b : boxes) {
    if (b.peer.contains(a) && b.ports.low <= port && port <= b.ports.high) return true;
  }
  return false;
}

bool overlap(const PeerPortBox& a, const PeerPortBox& b) {
  bool peers = a.peer.contains(b.peer) || b.peer.contains(a.peer);
  bool ports = a.ports.low <= b.ports.high && b.ports.low <= a.ports.high;
  return peers && ports;
}

TEST(MergeRanges, MergesOverlappingAndAdjacent) {
  EXPECT_EQ(mergeRanges({{10, 20}, {1, 5}, {21, 30}, {6, 6}, {40, 50}, {45, 46}}),
            (std::vector<PortRange>{{1, 6}, {10, 30}, {40, 50}}));
  EXPECT_EQ(mergeRanges({{65535, 65535}, {1, 65534}}), (std::vector<PortRange>{{1, 65535}}));
}

TEST(DisjointBoxes, HostInsidePrefixWithOtherPorts) {
  // A /24 on 443 and a host inside it on 8000-8010.
  std::vector<PeerPortBox> in = {{v4(0, 24), {443, 443}, "a:1"}, {v4(5, 32), {8000, 8010}, "a:2"}};
  std::vector<PeerPortBox> out = disjointBoxes(in);
  for (size_t i = 0; i < out.size(); ++i) {
    for (size_t j = i + 1; j < out.size(); ++j) EXPECT_FALSE(overlap(out[i], out[j]));
  }
  EXPECT_TRUE(covers(out, v4(5, 32).address, 443));
  EXPECT_TRUE(covers(out, v4(5, 32).address, 8005));
  EXPECT_FALSE(covers(out, v4(6, 32).address, 8005));
  EXPECT_TRUE(covers(out, v4(6, 32).address, 443));
}

TEST(DisjointBoxes, RedundantInnerPrefixAddsNothing) {
  std::vector<PeerPortBox> in = {{v4(0, 24), {1, 100}, "a:1"}, {v4(64, 26), {10, 20}, "a:2"}};
  EXPECT_EQ(disjointBoxes(in), (std::vector<PeerPortBox>{{v4(0, 24), {1, 100}, "a:1"}}));
}

TEST(DisjointBoxes, RandomInputsKeepTheirMeaningWithoutOverlap) {
  std::mt19937 rng(20261121);
  for (int round = 0; round < 300; ++round) {
    std::vector<PeerPortBox> in;
    int count = 1 + static_cast<int>(rng() % 8);
    for (int i = 0; i < count; ++i) {
      int length = 24 + static_cast<int>(rng() % 9);
      uint8_t last = static_cast<uint8_t>(rng() % 256);
      if (length < 32) last &= static_cast<uint8_t>(0xff << (32 - length));
      uint16_t lo = static_cast<uint16_t>(1 + rng() % 60);
      uint16_t hi = static_cast<uint16_t>(lo + rng() % 10);
      in.push_back({v4(last, length), {lo, hi}, "r:" + std::to_string(i)});
    }
    std::vector<PeerPortBox> out = disjointBoxes(in);
    for (size_t i = 0; i < out.size(); ++i) {
      for (size_t j = i + 1; j < out.size(); ++j) {
        ASSERT_FALSE(overlap(out[i], out[j])) << "round " << round;
      }
    }
    for (int host = 0; host < 256; ++host) {
      IpAddress a = v4(static_cast<uint8_t>(host), 32).address;
      for (uint16_t port = 0; port < 72; ++port) {
        ASSERT_EQ(covers(in, a, port), covers(out, a, port))
            << "round " << round << " host " << host << " port " << port;
      }
    }
  }
}

}  // namespace
}  // namespace ringfence::policy
