#include "policy/net_types.h"

#include <arpa/inet.h>

#include <cstdio>

namespace ringfence::policy {
namespace {

bool bitSet(const IpAddress& a, int bit) { return (a.bytes[bit / 8] >> (7 - bit % 8)) & 1; }

bool samePrefixBits(const IpAddress& a, const IpAddress& b, int length) {
  for (int bit = 0; bit < length; ++bit) {
    if (bitSet(a, bit) != bitSet(b, bit)) return false;
  }
  return true;
}

bool parseDecimal(std::string_view s, int max, int& out) {
  if (s.empty() || s.size() > 3) return false;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  if (v > max || (s.size() > 1 && s[0] == '0')) return false;
  out = v;
  return true;
}

}  // namespace

std::optional<IpAddress> parseIpAddress(std::string_view text) {
  if (text.empty() || text.size() > 45) return std::nullopt;
  std::string s(text);
  IpAddress a;
  if (s.find(':') == std::string::npos) {
    // inet_pton accepts exactly the dotted quad; leading zeros would read as octal elsewhere.
    size_t start = 0;
    for (int part = 0; part < 4; ++part) {
      size_t dot = s.find('.', start);
      if ((part < 3) != (dot != std::string::npos)) return std::nullopt;
      int v = 0;
      if (!parseDecimal(std::string_view(s).substr(start, dot - start), 255, v)) {
        return std::nullopt;
      }
      a.bytes[part] = static_cast<uint8_t>(v);
      start = dot + 1;
    }
    a.family = Family::V4;
    return a;
  }
  if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) != 1) return std::nullopt;
  a.family = Family::V6;
  return a;
}

PrefixParse parseIpPrefix(std::string_view text) {
  size_t slash = text.find('/');
  auto address = parseIpAddress(text.substr(0, slash));
  if (!address) return {std::nullopt, "invalid address '" + std::string(text) + "'"};
  int max = static_cast<int>(address->size() * 8);
  int length = max;
  if (slash != std::string_view::npos && !parseDecimal(text.substr(slash + 1), max, length)) {
    return {std::nullopt, "invalid prefix length in '" + std::string(text) + "' (0.." +
                              std::to_string(max) + ")"};
  }
  for (int bit = length; bit < max; ++bit) {
    if (bitSet(*address, bit)) {
      IpPrefix masked{*address, length};
      for (int b = length; b < max; ++b) {
        masked.address.bytes[b / 8] &= static_cast<uint8_t>(~(1u << (7 - b % 8)));
      }
      return {std::nullopt, "prefix '" + std::string(text) + "' has host bits set (did you mean " +
                                toString(masked) + "?)"};
    }
  }
  return {IpPrefix{*address, length}, {}};
}

std::optional<MacAddress> parseMac(std::string_view text) {
  if (text.size() != 17) return std::nullopt;
  MacAddress m;
  for (int i = 0; i < 6; ++i) {
    if (i > 0 && text[i * 3 - 1] != ':') return std::nullopt;
    int v = 0;
    for (int j = 0; j < 2; ++j) {
      char c = text[i * 3 + j];
      int d = (c >= '0' && c <= '9')   ? c - '0'
              : (c >= 'a' && c <= 'f') ? c - 'a' + 10
              : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                       : -1;
      if (d < 0) return std::nullopt;
      v = v * 16 + d;
    }
    m.bytes[i] = static_cast<uint8_t>(v);
  }
  return m;
}

bool IpPrefix::contains(const IpAddress& a) const {
  return a.family == address.family && samePrefixBits(address, a, length);
}

bool IpPrefix::contains(const IpPrefix& p) const {
  return p.address.family == address.family && p.length >= length &&
         samePrefixBits(address, p.address, length);
}

IpAddress IpPrefix::last() const {
  IpAddress a = address;
  int max = static_cast<int>(a.size() * 8);
  for (int b = length; b < max; ++b) a.bytes[b / 8] |= static_cast<uint8_t>(1u << (7 - b % 8));
  return a;
}

std::string toString(const IpAddress& a) {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(a.family == Family::V4 ? AF_INET : AF_INET6, a.bytes.data(), buf, sizeof buf);
  return buf;
}

std::string toString(const IpPrefix& p) {
  if (p.isHost()) return toString(p.address);
  return toString(p.address) + "/" + std::to_string(p.length);
}

std::string toString(const MacAddress& m) {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", m.bytes[0], m.bytes[1],
                m.bytes[2], m.bytes[3], m.bytes[4], m.bytes[5]);
  return buf;
}

IpPrefix hostPrefix(const IpAddress& a) { return IpPrefix{a, static_cast<int>(a.size() * 8)}; }

}  // namespace ringfence::policy
