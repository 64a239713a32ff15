// The claim index (policy/claim_index.h): a name, address or MAC claimed twice
// is found whether the claims came in one update or over several, looking
// only at the devices that changed; an address that moves between devices is
// no conflict.
#include "policy/claim_index.h"

#include <gtest/gtest.h>

namespace ringfence::policy {
namespace {

IpAddress ip(const char* a) { return parseIpAddress(a).value(); }

Device device(const std::string& name, std::vector<IpAddress> addresses,
              std::optional<MacAddress> mac = std::nullopt) {
  Device d;
  d.name = name;
  d.addresses = std::move(addresses);
  d.mac = mac;
  return d;
}

TEST(ClaimIndex, FindsEveryKindOfDoubleClaimAcrossUpdates) {
  ClaimIndex index;
  DeviceList list{device("a", {ip("198.51.100.1")}, parseMac("02:00:00:00:00:01")),
                  device("b", {ip("198.51.100.2"), ip("2001:db8::2")})};
  EXPECT_TRUE(index.update(list));
  EXPECT_TRUE(index.update(list)) << "the same devices again";

  DeviceList sameAddress = list;
  sameAddress.push_back(device("c", {ip("2001:db8::2")}));
  EXPECT_FALSE(index.update(sameAddress));
  EXPECT_TRUE(index.update(list)) << "after a conflict the index starts from nothing";

  DeviceList sameMac = list;
  sameMac.push_back(device("c", {ip("198.51.100.3")}, parseMac("02:00:00:00:00:01")));
  EXPECT_FALSE(index.update(sameMac));
  EXPECT_TRUE(index.update(list));

  DeviceList sameName = list;
  sameName.push_back(device("b", {ip("198.51.100.4")}));
  EXPECT_FALSE(index.update(sameName));
  EXPECT_TRUE(index.update(list));

  // An address that moves from b to a new device, in one update: no conflict.
  DeviceList moved = list;
  moved.edit(1).addresses = {ip("198.51.100.2")};
  moved.push_back(device("c", {ip("2001:db8::2")}));
  EXPECT_TRUE(index.update(moved));
  // b takes it back while c still has it: a conflict, though only b changed.
  DeviceList back = moved;
  back.edit(1).addresses.push_back(ip("2001:db8::2"));
  EXPECT_FALSE(index.update(back));
  // A device that leaves frees what it claimed.
  EXPECT_TRUE(index.update(moved));
  DeviceList left = moved;
  left.erase(left.begin() + 2);  // c
  EXPECT_TRUE(index.update(left));
  DeviceList reuse = left;
  reuse.push_back(device("d", {ip("2001:db8::2")}, parseMac("02:00:00:00:00:02")));
  EXPECT_TRUE(index.update(reuse));
}

}  // namespace
}  // namespace ringfence::policy
