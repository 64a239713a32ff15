#include "tests/support/policy_generator.h"

#include <cstdio>
#include <fstream>
#include <string>

namespace ringfence::test {
namespace {

// 2001:db8:64::I for the first 10,000 devices (the decimal digits read as
// hexadecimal), then 2001:db8:64:1:HIGH::LOW: all in 2001:db8:64::/48.
std::string v6(size_t i) {
  if (i < 10000) return "2001:db8:64::" + std::to_string(i);
  char buf[48];
  std::snprintf(buf, sizeof buf, "2001:db8:64:1:%zx::%zx", i >> 16, i & 0xffff);
  return buf;
}

}  // namespace

std::filesystem::path writeGeneratedPolicy(const std::filesystem::path& dir, size_t devices) {
  return writeGeneratedPolicy(dir, devices, {}, 0);
}

std::filesystem::path writeGeneratedPolicy(const std::filesystem::path& dir, size_t devices,
                                           const std::string& lastRulePeer, int lastRulePort) {
  std::filesystem::create_directories(dir / "devices");
  std::ofstream(dir / "ringfence.yaml") << "profiles: devices\ngroups: groups.yaml\n"
                                           "device_interfaces: [dev0]\n";
  std::ofstream(dir / "groups.yaml") << "groups:\n  ntp: [203.0.113.10, \"2001:db8:200::10\"]\n"
                                        "  support: [203.0.113.64/26, \"2001:db8:200::/120\"]\n";
  for (size_t i = 0; i < devices; ++i) {
    std::string name = "gen-" + std::to_string(i);
    // 100.64.0.0/10 holds 4M addresses: beyond 65,536 devices the second octet grows.
    std::string v4 = "100." + std::to_string(64 + i / 65536) + "." + std::to_string(i / 256 % 256) +
                     "." + std::to_string(i % 256);
    std::string peer = "203.0.113." + std::to_string(1 + i % 200);
    std::string text = "device: " + name + "\ninventory:\n  vendor: Generated\n  firmware: \"1." +
                       std::to_string(i % 7) + "\"\nidentity:\n  addresses: [" + v4;
    if (i % 2 == 0) text += ", \"" + v6(i) + "\"";
    text += "]\n";
    char mac[18];
    std::snprintf(mac, sizeof mac, "02:01:%02x:%02x:%02x:%02x",
                  static_cast<unsigned>((i >> 24) & 0xff), static_cast<unsigned>((i >> 16) & 0xff),
                  static_cast<unsigned>((i >> 8) & 0xff), static_cast<unsigned>(i & 0xff));
    text += "  mac: \"" + std::string(mac) + "\"\n";
    text +=
        "allow:\n  outbound:\n"
        "    - to: " +
        peer +
        "\n      proto: tcp\n      ports: [443]\n"
        "    - to: \"@ntp\"\n      proto: udp\n      ports: [123]\n"
        "    - to: 198.18." +
        std::to_string(i % 256) +
        ".0/24\n      proto: tcp\n      ports: [\"8000-8010\", 104]\n"
        "    - to: " +
        peer +
        "\n      proto: icmp\n"
        "  inbound:\n"
        "    - from: \"@support\"\n      proto: tcp\n      ports: [22]\n";
    if (i + 1 == devices && !lastRulePeer.empty()) {
      text.insert(text.find("  inbound:\n"), "    - to: " + lastRulePeer +
                                                 "\n      proto: tcp\n      ports: [" +
                                                 std::to_string(lastRulePort) + "]\n");
    }
    std::ofstream(dir / "devices" / (name + ".yaml")) << text;
  }
  return dir / "ringfence.yaml";
}

}  // namespace ringfence::test
