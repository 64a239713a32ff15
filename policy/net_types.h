// Addresses, prefixes and MACs as the policy uses them: plain values, parsed
// strictly (no shorthand forms that admins might misread).
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "policy/fnv.h"

namespace ringfence::policy {

enum class Family { V4, V6 };

struct IpAddress {
  Family family = Family::V4;
  std::array<uint8_t, 16> bytes{};  // network order; IPv4 uses the first 4

  size_t size() const { return family == Family::V4 ? 4 : 16; }
  auto operator<=>(const IpAddress&) const = default;
};

struct IpPrefix {
  IpAddress address;  // host bits are zero
  int length = 0;

  bool contains(const IpAddress& a) const;
  bool contains(const IpPrefix& p) const;  // p is inside (or equal to) this prefix
  bool isHost() const { return length == static_cast<int>(address.size() * 8); }
  IpAddress last() const;  // highest address of the prefix
  auto operator<=>(const IpPrefix&) const = default;
};

struct MacAddress {
  std::array<uint8_t, 6> bytes{};
  auto operator<=>(const MacAddress&) const = default;
};

std::optional<IpAddress> parseIpAddress(std::string_view text);

// "a.b.c.d/len" or "x::/len"; an address without "/len" is a host prefix.
// Errors are messages for the admin (e.g. host bits set).
struct PrefixParse {
  std::optional<IpPrefix> prefix;
  std::string error;
};
PrefixParse parseIpPrefix(std::string_view text);

std::optional<MacAddress> parseMac(std::string_view text);

std::string toString(const IpAddress& a);
std::string toString(const IpPrefix& p);  // host prefixes print without "/len"
std::string toString(const MacAddress& m);

IpPrefix hostPrefix(const IpAddress& a);

// Addresses and MACs as keys of unordered containers: FNV-1a over the bytes.
struct AddressHash {
  size_t operator()(const IpAddress& a) const {
    return of(a.bytes.data(), a.size(), static_cast<uint8_t>(a.family));
  }
  size_t operator()(const MacAddress& m) const { return of(m.bytes.data(), m.bytes.size(), 2); }
  static size_t of(const uint8_t* p, size_t n, uint8_t kind) {
    return static_cast<size_t>(fnv1a(fnv1a(kFnvBasis, kind), std::span<const uint8_t>(p, n)));
  }
};

}  // namespace ringfence::policy
