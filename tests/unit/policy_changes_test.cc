// The change report of a reload: every addition and every loss, per device,
// losses as warnings.
#include "policy/policy_changes.h"

#include <gtest/gtest.h>

#include "policy/sources.h"

namespace ringfence::policy {
namespace {

constexpr const char* kGroups =
    "groups:\n  servers: [203.0.113.20, 203.0.113.21, \"2001:db8::20\"]\n";

constexpr const char* kPump = R"(device: pump
identity:
  addresses: [198.51.100.10, "2001:db8::10"]
  mac: "02:00:00:00:00:10"
  interface: dev0
mode: enforce
allow:
  outbound:
    - to: "@servers"
      proto: tcp
      ports: [443]
      critical: true
    - to: 203.0.113.10
      proto: udp
      ports: [123]
  inbound:
    - from: 203.0.113.30
      proto: tcp
      ports: ["104-105"]
violations:
  action: isolate
  threshold: 3
  window: 120s
  release: 2h
limits:
  inbound_new_per_second: 5
maintenance:
  - to: 203.0.113.200
    proto: tcp
    ports: [443]
)";

Policy load(const std::vector<std::string>& profiles, const std::string& config = "") {
  PolicySources s;
  if (!config.empty()) s.config = SourceFile{"ringfence.yaml", config};
  s.groups = SourceFile{"groups.yaml", kGroups};
  for (size_t i = 0; i < profiles.size(); ++i) {
    s.profiles.push_back({"p/" + std::to_string(i) + ".yaml", profiles[i]});
  }
  LoadResult r = loadPolicy(s, LoadOptions{});
  for (const Diagnostic& d : r.diagnostics.all()) ADD_FAILURE() << formatDiagnostic(d);
  return std::move(r.policy);
}

// kPump with `from` replaced by `to` (the first occurrence).
std::string edit(std::string text, const std::string& from, const std::string& to) {
  size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

std::vector<std::string> changes(const std::string& after) {
  return describeChanges(load({kPump}), load({after}));
}

TEST(PolicyChanges, SamePolicyHasNoChanges) {
  EXPECT_EQ(describeChanges(load({kPump}), load({kPump})), std::vector<std::string>{});
  // Comments, descriptions and the order of keys are not changes of the policy.
  EXPECT_EQ(changes(edit(kPump, "mode: enforce\n", "description: x\nmode: enforce # ok\n")),
            std::vector<std::string>{});
}

TEST(PolicyChanges, DevicesAddedAndRemoved) {
  std::string other = "device: other\nidentity:\n  addresses: [198.51.100.20]\nmode: learn\n";
  EXPECT_EQ(describeChanges(load({kPump}), load({kPump, other})),
            std::vector<std::string>{"device 'other': device added (198.51.100.20, learn)"});
  EXPECT_EQ(describeChanges(load({kPump, other}), load({other})),
            std::vector<std::string>{
                "warning: device 'pump': device removed (198.51.100.10, 2001:db8::10, was in "
                "p/0.yaml): its traffic is now that of an unknown host (unknown_devices: drop)"});
}

TEST(PolicyChanges, GuardsLostAreWarnings) {
  EXPECT_EQ(changes(edit(kPump, "  mac: \"02:00:00:00:00:10\"\n", "")),
            std::vector<std::string>{
                "warning: device 'pump': MAC binding removed (was 02:00:00:00:00:10)"});
  EXPECT_EQ(
      changes(edit(kPump, "  interface: dev0\n", "")),
      std::vector<std::string>{"warning: device 'pump': interface binding removed (was dev0)"});
  EXPECT_EQ(changes(edit(kPump, "limits:\n  inbound_new_per_second: 5\n", "")),
            std::vector<std::string>{
                "warning: device 'pump': inbound limit removed (was 5 new connections/s)"});
  EXPECT_EQ(changes(edit(kPump, "inbound_new_per_second: 5", "inbound_new_per_second: 50")),
            std::vector<std::string>{
                "warning: device 'pump': inbound limit raised from 5 to 50 new connections/s"});
  EXPECT_EQ(
      changes(edit(kPump, "mode: enforce", "mode: monitor")),
      std::vector<std::string>{"warning: device 'pump': mode changed from enforce to monitor"});
  EXPECT_EQ(changes(edit(kPump, "mode: enforce", "mode: learn")),
            std::vector<std::string>{"warning: device 'pump': mode changed from enforce to learn"});
  EXPECT_EQ(changes(edit(kPump, "action: isolate", "action: alert")),
            std::vector<std::string>{
                "warning: device 'pump': violations action changed from isolate to alert"});
  EXPECT_EQ(
      changes(edit(kPump, "threshold: 3", "threshold: 10")),
      std::vector<std::string>{"warning: device 'pump': violations threshold raised from 3 to 10"});
  EXPECT_EQ(changes(edit(kPump, "window: 120s", "window: 10s")),
            std::vector<std::string>{
                "warning: device 'pump': violations window changed from 120s to 10s"});
  EXPECT_EQ(changes(edit(kPump, "release: 2h", "release: 5m")),
            std::vector<std::string>{
                "warning: device 'pump': release changed from after 7200s to after 300s"});
  EXPECT_EQ(changes(edit(kPump, "  addresses: [198.51.100.10, \"2001:db8::10\"]",
                         "  addresses: [198.51.100.10]")),
            (std::vector<std::string>{
                "warning: device 'pump': address removed: 2001:db8::10",
                "warning: device 'pump': 1 flow removed: outbound tcp to 2001:db8::20 port 443",
            }))
      << "the group's IPv6 members no longer pair with the device";
}

TEST(PolicyChanges, StricterGuardsAreNotices) {
  std::string weak = edit(
      edit(edit(edit(kPump, "mode: enforce", "mode: monitor"), "action: isolate", "action: alert"),
           "threshold: 3", "threshold: 5"),
      "inbound_new_per_second: 5", "inbound_new_per_second: 50");
  weak = edit(edit(weak, "  mac: \"02:00:00:00:00:10\"\n", ""), "  interface: dev0\n", "");
  weak = edit(weak, "release: 2h", "release: 5m");
  EXPECT_EQ(describeChanges(load({weak}), load({kPump})),
            (std::vector<std::string>{
                "device 'pump': MAC binding added (02:00:00:00:00:10)",
                "device 'pump': interface binding added (dev0)",
                "device 'pump': mode changed from monitor to enforce",
                "device 'pump': violations action changed from alert to isolate",
                "device 'pump': violations threshold lowered from 5 to 3",
                "device 'pump': release changed from after 300s to after 7200s",
                "device 'pump': inbound limit lowered from 50 to 5 new connections/s",
            }));
  EXPECT_EQ(changes(edit(kPump, "release: 2h", "release: manual")),
            std::vector<std::string>{"device 'pump': release changed from after 7200s to manual"});
}

TEST(PolicyChanges, FlowsAddedRemovedAndCriticalChanged) {
  EXPECT_EQ(changes(edit(kPump, "ports: [\"104-105\"]", "ports: [\"104-106\", 11112]")),
            (std::vector<std::string>{
                "warning: device 'pump': 1 flow removed: inbound tcp from 203.0.113.30 port "
                "104-105",
                "device 'pump': 2 flows added: inbound tcp from 203.0.113.30 port 104-106, inbound "
                "tcp from 203.0.113.30 port 11112",
            }));
  EXPECT_EQ(changes(edit(kPump, "      critical: true\n", "")),
            std::vector<std::string>{
                "warning: device 'pump': 3 flows no longer critical (cut when isolated): outbound "
                "tcp to 203.0.113.20 port 443, outbound tcp to 203.0.113.21 port 443, outbound tcp "
                "to 2001:db8::20 port 443"});
  EXPECT_EQ(
      changes(edit(kPump, "      ports: [123]\n", "      ports: [123]\n      critical: true\n")),
      std::vector<std::string>{
          "warning: device 'pump': 1 flow now critical (open while isolated): outbound udp "
          "to 203.0.113.10 port 123"});
  EXPECT_EQ(changes(edit(kPump,
                         "maintenance:\n  - to: 203.0.113.200\n    proto: tcp\n    ports: "
                         "[443]\n",
                         "")),
            std::vector<std::string>{"warning: device 'pump': 1 flow removed: maintenance tcp to "
                                     "203.0.113.200 port 443"});
  std::string many = edit(kPump, "ports: [443]\n      critical: true",
                          "ports: [443, 444, 445]\n      critical: true");
  EXPECT_EQ(describeChanges(load({many}), load({kPump})),
            std::vector<std::string>{
                "warning: device 'pump': 6 flows removed: outbound tcp to 203.0.113.20 port 444, "
                "outbound tcp to 203.0.113.20 port 445, outbound tcp to 203.0.113.21 port 444 and "
                "3 more"});
}

TEST(PolicyChanges, ConfigurationChanges) {
  Policy a = load({kPump}, "device_interfaces: [dev0, dev1]\nunknown_devices: drop\n");
  Policy b = load({kPump}, "device_interfaces: [dev0, dev2]\nunknown_devices: allow\n");
  std::vector<PolicyChange> c = policyChanges(a, b);
  EXPECT_EQ(describeChanges(a, b),
            (std::vector<std::string>{
                "warning: policy: unknown_devices changed from drop to allow",
                "warning: policy: device interface 'dev1' removed: its traffic is no longer "
                "filtered",
                "policy: device interface 'dev2' added",
            }));
  EXPECT_TRUE(hasWarnings(c));
  EXPECT_EQ(c[0].device, "");
  EXPECT_EQ(c[0].severity, ChangeSeverity::Warning);
  EXPECT_FALSE(hasWarnings(policyChanges(b, b)));
}

TEST(PolicyChanges, AGatewayServiceOpenedIsAWarningAndOneClosedANotice) {
  Policy a = load({kPump}, "gateway_services: [tcp/22]\n");
  Policy b = load({kPump}, "gateway_services: [udp/161]\n");
  EXPECT_EQ(describeChanges(a, b), (std::vector<std::string>{
                                       "warning: policy: gateway service udp/161 opened to devices",
                                       "policy: gateway service tcp/22 closed",
                                   }));
  EXPECT_TRUE(hasWarnings(policyChanges(a, b)));
  Policy none = load({kPump});
  EXPECT_FALSE(hasWarnings(policyChanges(a, none)));
  EXPECT_TRUE(hasWarnings(policyChanges(none, a)));
  EXPECT_FALSE(hasWarnings(policyChanges(a, a)));
}

TEST(PolicyChanges, AdminGroupChangedIsAWarning) {
  Policy a = load({kPump});
  Policy b = load({kPump}, "admin_group: wheel\n");
  EXPECT_EQ(describeChanges(a, b),
            (std::vector<std::string>{"warning: policy: admin_group changed from ringfence to "
                                      "wheel: other users may now isolate, release and reload"}));
  EXPECT_FALSE(hasWarnings(policyChanges(b, b)));
}

}  // namespace
}  // namespace ringfence::policy
