// Compiled size limits: the count matches the compiler element for element,
// a policy over a limit is refused naming the device and its rules, and a
// large honest policy is accepted.
#include "policy/limits.h"

#include <gtest/gtest.h>

#include <chrono>

#include "policy/compiler.h"
#include "policy/sources.h"
#include "tests/support/policy_generator.h"
#include "tests/support/temp_dir.h"

namespace ringfence::policy {
namespace {

std::vector<std::string> formatted(const LoadResult& r) {
  std::vector<std::string> out;
  for (const Diagnostic& d : r.diagnostics.sorted()) out.push_back(formatDiagnostic(d));
  return out;
}

LoadResult loadConfig(const std::string& config) {
  LoadOptions o;
  o.configFile = config;
  o.configRequired = true;
  return loadPolicy(o);
}

// The counts of compiledSizes against a real compile.
void expectCountsMatchTheCompiler(const Policy& policy) {
  Plan plan = compilePlan(policy);
  std::vector<DeviceSize> sizes = compiledSizes(policy);
  ASSERT_EQ(sizes.size(), plan.devices.size());
  size_t runtime = 0;
  for (size_t i = 0; i < sizes.size(); ++i) {
    const DeviceElements& d = plan.devices[i];
    const Device& device = policy.devices[i];
    size_t n =
        d.maintenance.size() + isolationElements(device.name, device.addresses, device.mac).size();
    runtime += n;
    for (const ElementSlice& s : d.slices) n += s.end - s.begin;
    EXPECT_EQ(sizes[i].device, d.device);
    EXPECT_EQ(sizes[i].elements, n) << d.device;
  }
  EXPECT_EQ(compiledTotal(policy, sizes), plan.elementCount() + runtime);
}

class ExampleSizes : public ::testing::TestWithParam<std::string> {};

TEST_P(ExampleSizes, CountIsExactlyWhatTheCompilerBuilds) {
  LoadResult r = loadConfig(std::string(RINGFENCE_SOURCE_DIR "/") + GetParam());
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(formatted(r));
  expectCountsMatchTheCompiler(r.policy);
}

INSTANTIATE_TEST_SUITE_P(Examples, ExampleSizes,
                         ::testing::Values("profiles/ringfence.yaml",
                                           "tests/data/golden/ringfence.yaml",
                                           "tests/data/lab/ringfence.yaml",
                                           "tests/data/isolate/ringfence.yaml"),
                         [](const auto& info) {
                           std::string dir = info.param.substr(0, info.param.rfind('/'));
                           return dir.substr(dir.rfind('/') + 1);
                         });

LoadResult loadProfile(const std::string& text, const std::string& config = "") {
  PolicySources s;
  if (!config.empty()) s.config = SourceFile{"ringfence.yaml", config};
  s.groups = SourceFile{"groups.yaml",
                        "groups:\n  servers: [203.0.113.0/24, 203.0.113.7, \"2001:db8::/64\"]\n"};
  s.profiles.push_back({"p/big.yaml", text});
  return loadPolicy(s, LoadOptions{});
}

TEST(Limits, OverlappingPrefixesRangesCriticalAndMaintenanceAreCountedExactly) {
  LoadResult r = loadProfile(R"(device: big
identity:
  addresses: [198.51.100.1, 198.51.100.2, "2001:db8:1::1"]
  mac: "02:00:00:00:00:01"
  interface: dev0
mode: monitor
allow:
  outbound:
    - to: any
      proto: tcp
      ports: ["1-1000", 443, 8443]
    - to: ["@servers", 203.0.113.7, 203.0.113.128/25, "2001:db8::5"]
      proto: tcp
      ports: [22, 443, 443, "8000-8010"]
    - to: [203.0.113.9, 203.0.113.10]
      proto: udp
      ports: [53, 123]
      critical: true
    - to: 203.0.113.1
      proto: icmp
  inbound:
    - from: ["@servers", 10.0.0.0/8, 10.1.2.3]
      proto: tcp
      ports: [104, "2000-3000"]
      critical: true
    - from: "2001:db8::/48"
      proto: icmpv6
limits:
  inbound_new_per_second: 5
maintenance:
  - to: [203.0.113.200, 203.0.113.0/24]
    proto: tcp
    ports: [443, 22]
)",
                             "device_interfaces: [dev0, dev1]\n");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(formatted(r));
  expectCountsMatchTheCompiler(r.policy);
}

std::string bigProfile(size_t peers, size_t ports) {
  std::string text = "device: big\nidentity:\n  addresses: [198.51.100.1]\nallow:\n  outbound:\n";
  text += "    - to: 203.0.113.1\n      proto: tcp\n      ports: [443]\n";
  text += "    - to: [";
  for (size_t i = 0; i < peers; ++i) {
    text += (i ? ", " : "") + std::string("10.0.") + std::to_string(i / 250) + "." +
            std::to_string(1 + i % 250);
  }
  text += "]\n      proto: tcp\n      ports: [";
  for (size_t i = 0; i < ports; ++i) text += (i ? ", " : "") + std::to_string(1000 + 2 * i);
  text += "]\n";
  return text;
}

TEST(Limits, SevenHundredPeersTimesSevenHundredPortsIsRefused) {
  std::string text = bigProfile(700, 700);
  EXPECT_LT(text.size(), 16000u);
  LoadResult r = loadProfile(text);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(formatted(r),
            std::vector<std::string>{
                "p/big.yaml:1:9: error: device 'big' compiles to 490,010 set elements, more than "
                "the limit of 16,384 per device; the largest rules: line 9 (700 peers x 700 "
                "ports), line 6 (1 peers x 1 ports): use prefixes, port ranges or fewer peers"});
}

TEST(Limits, JustUnderThePerDeviceLimitIsAccepted) {
  // 6 address elements + 1 + 127 x 128 = 16,263 elements.
  LoadResult r = loadProfile(bigProfile(127, 128));
  EXPECT_TRUE(r.ok()) << ::testing::PrintToString(formatted(r));
  EXPECT_EQ(compiledSizes(r.policy).at(0).elements, 16266u);  // and instant4 (threshold 1)
}

TEST(Limits, TotalLimitNamesTheLargestDevices) {
  test::TempDir dir;
  LoadResult r = loadConfig(test::writeGeneratedPolicy(dir.path(), 50).string());
  ASSERT_TRUE(r.ok());
  Diagnostics diags;
  checkPlanLimits(r.policy, diags, PlanLimits{16384, 500});
  ASSERT_EQ(diags.all().size(), 1u);
  std::string m = formatDiagnostic(diags.all()[0]);
  EXPECT_EQ(m.rfind(dir.file("ringfence.yaml") + ":1:1: error: the policy compiles to ", 0), 0u)
      << m;
  EXPECT_NE(m.find("set elements in all, more than the limit of 500; the largest devices: gen-"),
            std::string::npos)
      << m;
}

TEST(Limits, TenThousandGeneratedDevicesAreAccepted) {
  test::TempDir dir;
  std::string config = test::writeGeneratedPolicy(dir.path(), 10000).string();
  auto start = std::chrono::steady_clock::now();
  LoadResult r = loadConfig(config);
  auto loaded = std::chrono::steady_clock::now();
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(formatted(r));
  EXPECT_EQ(r.policy.devices.size(), 10000u);
  auto beforeCount = std::chrono::steady_clock::now();
  std::vector<DeviceSize> sizes = compiledSizes(r.policy);
  auto counted = std::chrono::steady_clock::now();
  Plan plan = compilePlan(r.policy);
  auto compiled = std::chrono::steady_clock::now();
  auto ms = [](auto a, auto b) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(b - a).count();
  };
  std::printf("10,000 devices: load %lld ms (of which counting %lld ms), compile %lld ms\n",
              static_cast<long long>(ms(start, loaded)),
              static_cast<long long>(ms(beforeCount, counted)),
              static_cast<long long>(ms(loaded, compiled) - ms(beforeCount, counted)));
  size_t runtime = 0;
  for (size_t i = 0; i < plan.devices.size(); ++i) {
    const Device& device = r.policy.devices[i];
    runtime += plan.devices[i].maintenance.size() +
               isolationElements(device.name, device.addresses, device.mac).size();
  }
  EXPECT_EQ(compiledTotal(r.policy, sizes), plan.elementCount() + runtime);
}

}  // namespace
}  // namespace ringfence::policy
