// Loading whole configurations: valid forms, cross-file checks, the
// configuration file, groups and paths.
#include "policy/loader.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "policy/sources.h"
#include "tests/support/temp_dir.h"

namespace ringfence::policy {
namespace {

class Loader : public ::testing::Test {
 protected:
  LoadResult load() {
    LoadOptions o;
    o.configFile = dir.file("ringfence.yaml");
    o.configRequired = true;
    return loadPolicy(o);
  }
  void config(const std::string& extra = "") {
    dir.write("ringfence.yaml", "profiles: profiles\ngroups: groups.yaml\n" + extra);
  }
  std::vector<std::string> messages(const LoadResult& r) {
    std::vector<std::string> out;
    for (const Diagnostic& d : r.diagnostics.sorted()) {
      std::string s = formatDiagnostic(d);
      std::string base = std::filesystem::path(d.where.file.str()).filename().string();
      out.push_back(base + s.substr(d.where.file.size()));
    }
    return out;
  }
  test::TempDir dir;
};

constexpr const char* kFullProfile = R"(device: pump-3w-01
description: BD Alaris infusion pump, ward 3W
inventory:
  vendor: BD
  firmware: "9.33.1"
identity:
  addresses: [198.51.100.10, "2001:db8:10::10"]
  mac: "02:00:00:00:00:10"
  interface: dev0
mode: monitor
allow:
  outbound:
    - to: [203.0.113.20, "@pump-servers", 203.0.113.64/26]
      proto: tcp
      ports: [443, "8000-8010"]
      comment: pump server
      critical: false
    - to: 203.0.113.1
      proto: icmp
  inbound:
    - from: "@pacs"
      proto: tcp
      ports: [104]
    - from: "2001:db8::/48"
      proto: icmpv6
violations:
  action: alert
  threshold: 3
  window: 60s
  release: 2h
limits:
  inbound_new_per_second: 20
maintenance:
  - to: 203.0.113.200
    proto: tcp
    ports: 443
    comment: vendor firmware update server
)";

constexpr const char* kGroups = R"(groups:
  pump-servers: [203.0.113.20, 203.0.113.21]
  pacs: [203.0.113.30, "2001:db8:20::30", 203.0.113.128/25]
  single: 203.0.113.99
)";

TEST_F(Loader, AcceptsEveryDocumentedField) {
  config(
      "device_interfaces: [dev0]\nunknown_devices: alert\nadmin_group: biomed\ntable: rf_test\n");
  dir.write("groups.yaml", kGroups);
  dir.write("profiles/pump.yaml", kFullProfile);
  LoadResult r = load();
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(messages(r));
  EXPECT_TRUE(r.diagnostics.all().empty()) << ::testing::PrintToString(messages(r));
  ASSERT_EQ(r.policy.devices.size(), 1u);
  const Device& d = r.policy.devices[0];
  EXPECT_EQ(d.name, "pump-3w-01");
  EXPECT_EQ(d.description, "BD Alaris infusion pump, ward 3W");
  ASSERT_EQ(d.inventory.size(), 2u);
  EXPECT_EQ(d.inventory[1], (std::pair<std::string, std::string>{"firmware", "9.33.1"}));
  EXPECT_EQ(d.addresses.size(), 2u);
  EXPECT_EQ(toString(*d.mac), "02:00:00:00:00:10");
  EXPECT_EQ(d.interface, "dev0");
  EXPECT_EQ(d.mode, Mode::Monitor);
  ASSERT_EQ(d.outbound.size(), 2u);
  // 203.0.113.20 literal and via the group are one peer; .21 from the group; the /26.
  EXPECT_EQ(d.outbound[0].resolved.size(), 3u);
  EXPECT_EQ(d.outbound[0].ports, (std::vector<PortRange>{{443, 443}, {8000, 8010}}));
  EXPECT_EQ(d.outbound[1].proto, Proto::Icmp);
  EXPECT_TRUE(d.outbound[1].ports.empty());
  // @pacs has IPv4 and IPv6 members; the device has both families.
  EXPECT_EQ(d.inbound[0].resolved.size(), 3u);
  EXPECT_EQ(d.violations.action, ViolationAction::Alert);
  EXPECT_EQ(d.violations.threshold, 3u);
  EXPECT_EQ(d.violations.window, std::chrono::seconds(60));
  EXPECT_EQ(d.violations.release, std::chrono::seconds(7200));
  EXPECT_EQ(d.inboundNewPerSecond, 20u);
  ASSERT_EQ(d.maintenance.size(), 1u);
  EXPECT_EQ(d.maintenance[0].ports, (std::vector<PortRange>{{443, 443}}));
  EXPECT_EQ(r.policy.config.table, "rf_test");
  EXPECT_EQ(r.policy.config.unknownDevices, UnknownDevices::Alert);
  EXPECT_EQ(r.policy.config.adminGroup, "biomed");
  EXPECT_EQ(r.policy.groups.at("single").members.size(), 1u);
  // The peers one group gives share one text naming it; a literal peer has none.
  EXPECT_EQ(d.outbound[0].comment, "pump server");
  EXPECT_TRUE(d.outbound[1].comment.sameObject(SharedText()));
  const auto& pacs = d.inbound[0].resolved;
  ASSERT_EQ(pacs.size(), 3u);
  EXPECT_EQ(pacs[0].via, "@pacs");
  EXPECT_TRUE(pacs[1].via.sameObject(pacs[0].via));
  EXPECT_TRUE(pacs[2].via.sameObject(pacs[0].via));
  EXPECT_TRUE(d.outbound[1].resolved[0].via.sameObject(SharedText()));
  // Every place in the profile names its file with one shared text.
  EXPECT_EQ(d.where.file.str(), dir.file("profiles/pump.yaml"));
  for (const SourceLocation* at :
       {&d.addressWhere[0], &d.addressWhere[1], &d.macWhere, &d.outbound[0].where,
        &d.outbound[0].peers[0].where, &d.inbound[0].where, &d.maintenance[0].where}) {
    EXPECT_TRUE(at->file.sameObject(d.where.file)) << at->line;
  }
  EXPECT_TRUE(d.file.sameObject(d.where.file));
}

// Profiles parsed one after the other share the texts they repeat: a
// group's name in every peer naming it and a rule's comment; the profile's
// source names its file with the text its locations share.
TEST_F(Loader, RepeatedGroupNamesAndCommentsAreOneText) {
  config();
  dir.write("groups.yaml", "groups:\n  ntp: [192.0.2.123]\n");
  for (const char* name : {"a", "b"}) {
    dir.write(std::string("profiles/") + name + ".yaml",
              std::string("device: ") + name + "\nidentity:\n  addresses: [198.51.100." +
                  (name[0] == 'a' ? "1" : "2") +
                  "]\nallow:\n  outbound:\n    - to: \"@ntp\"\n      proto: udp\n      "
                  "ports: [123]\n      comment: time\n    - to: [\"@ntp\", 192.0.2.9]\n"
                  "      proto: tcp\n      ports: [37]\n");
  }
  LoadOptions o;
  o.configFile = dir.file("ringfence.yaml");
  o.configRequired = true;
  Diagnostics read;
  PolicySources sources = readPolicySources(o, read);
  ASSERT_FALSE(read.hasErrors());
  LoadResult r = loadPolicy(sources, o);
  ASSERT_TRUE(r.ok()) << messages(r).front();
  ASSERT_EQ(r.policy.devices.size(), 2u);
  const Device& a = r.policy.devices[0];
  const Device& b = r.policy.devices[1];
  EXPECT_EQ(a.outbound[0].peers[0].group, "ntp");
  EXPECT_TRUE(a.outbound[1].peers[0].group.sameObject(a.outbound[0].peers[0].group));
  EXPECT_TRUE(b.outbound[0].peers[0].group.sameObject(a.outbound[0].peers[0].group));
  EXPECT_TRUE(a.outbound[1].peers[1].group.sameObject(SharedText()));  // a literal address
  EXPECT_EQ(a.outbound[0].comment, "time");
  EXPECT_TRUE(b.outbound[0].comment.sameObject(a.outbound[0].comment));
  ASSERT_EQ(sources.profiles.size(), 2u);
  EXPECT_TRUE(sources.profiles[0].path.sameObject(a.where.file));
  EXPECT_TRUE(sources.profiles[1].path.sameObject(b.file));
}

TEST_F(Loader, DefaultsWhenOptionalFieldsAreAbsent) {
  config();
  dir.write("profiles/a.yaml", "device: a\nidentity:\n  addresses: [198.51.100.1]\nallow:\n");
  LoadResult r = load();
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(messages(r));
  const Device& d = r.policy.devices[0];
  EXPECT_EQ(d.mode, Mode::Enforce);
  EXPECT_EQ(d.violations.action, ViolationAction::Isolate);
  EXPECT_EQ(d.violations.threshold, 1u);
  EXPECT_EQ(d.violations.window, std::chrono::seconds(60));
  EXPECT_FALSE(d.violations.release);
  EXPECT_FALSE(d.inboundNewPerSecond);
  EXPECT_TRUE(d.outbound.empty());
  EXPECT_TRUE(r.policy.groups.empty()) << "a missing groups file means no groups";
  EXPECT_EQ(r.policy.config.unknownDevices, UnknownDevices::Drop);
  EXPECT_EQ(r.policy.config.stateDir, RINGFENCE_STATE_DIR);  // the prefix's, see policy/paths.h
}

TEST_F(Loader, PicksYamlAndYmlAndIgnoresHiddenAndOtherFiles) {
  config();
  dir.write("profiles/a.yaml", "device: a\nidentity:\n  addresses: [198.51.100.1]\n");
  dir.write("profiles/b.yml", "device: b\nidentity:\n  addresses: [198.51.100.2]\n");
  dir.write("profiles/.c.yaml", "not: valid: at all\n");
  dir.write("profiles/notes.txt", "not: valid: at all\n");
  dir.write("profiles/d.yaml.bak", "not: valid: at all\n");
  LoadResult r = load();
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(messages(r));
  EXPECT_EQ(r.policy.devices.size(), 2u);
}

TEST_F(Loader, RelativePathsResolveFromTheConfigurationsDirectory) {
  dir.write("etc/ringfence.yaml", "profiles: p\ngroups: ../g.yaml\nstate_dir: state\n");
  dir.write("etc/p/a.yaml", "device: a\nidentity:\n  addresses: [198.51.100.1]\n");
  dir.write("g.yaml", "groups:\n  x: [203.0.113.1]\n");
  LoadOptions o;
  o.configFile = dir.file("etc/ringfence.yaml");
  LoadResult r = loadPolicy(o);
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(messages(r));
  EXPECT_EQ(r.policy.devices.size(), 1u);
  EXPECT_EQ(r.policy.groups.size(), 1u);
  EXPECT_EQ(r.policy.config.stateDir, dir.file("etc/state"));
}

TEST_F(Loader, CommandLineOverridesTheConfiguration) {
  config("table: from_file\n");
  dir.write("other/a.yaml", "device: a\nidentity:\n  addresses: [198.51.100.1]\n");
  LoadOptions o;
  o.configFile = dir.file("ringfence.yaml");
  o.profilesDir = dir.file("other");
  o.table = "from_cli";
  LoadResult r = loadPolicy(o);
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(messages(r));
  EXPECT_EQ(r.policy.devices.size(), 1u);
  EXPECT_EQ(r.policy.config.table, "from_cli");
}

TEST_F(Loader, MissingDefaultConfigurationMeansDefaults) {
  LoadOptions o;
  o.configFile = dir.file("absent.yaml");
  o.profilesDir = dir.file("profiles");
  dir.write("profiles/a.yaml", "device: a\nidentity:\n  addresses: [198.51.100.1]\n");
  LoadResult r = loadPolicy(o);
  EXPECT_TRUE(r.ok());
  o.configRequired = true;
  EXPECT_EQ(messages(loadPolicy(o)),
            std::vector<std::string>{"absent.yaml:1:1: error: configuration file does not exist"});
}

TEST_F(Loader, MissingProfilesDirectoryIsAnErrorWhereTheConfigurationNamesIt) {
  config();
  EXPECT_EQ(messages(load()), std::vector<std::string>{"ringfence.yaml:1:11: error: profiles "
                                                       "directory '" +
                                                       dir.file("profiles") +
                                                       "' does not exist or is not a directory"});
  LoadOptions o;
  o.configFile = dir.file("ringfence.yaml");
  o.profilesDir = dir.file("elsewhere");  // named on the command line: reported at the path
  EXPECT_EQ(messages(loadPolicy(o)),
            std::vector<std::string>{
                "elsewhere:1:1: error: profiles directory does not exist or is not a directory"});
}

TEST_F(Loader, ReportsErrorsOfAllFilesInOneRun) {
  config("unknown_devices: maybe\n");
  dir.write("groups.yaml", "groups:\n  bad: [\"@other\"]\n");
  dir.write("profiles/a.yaml", "device: a\nidentity:\n  addresses: [198.51.100.1]\nmode: x\n");
  dir.write("profiles/b.yaml", "device: b\nidentity:\n  addresses: [198.51.100.2]\nmdoe: learn\n");
  EXPECT_EQ(
      messages(load()),
      (std::vector<std::string>{
          "groups.yaml:2:9: error: a group may not reference another group ('@other')",
          "a.yaml:4:7: error: invalid mode 'x' (enforce, monitor or learn)",
          "b.yaml:4:1: error: unknown key 'mdoe' in profile (did you mean 'mode'?)",
          "ringfence.yaml:3:18: error: invalid unknown_devices 'maybe' (drop, alert or allow)",
      }));
}

TEST_F(Loader, TwoProfilesWithTheSameDeviceName) {
  config();
  dir.write("profiles/a.yaml", "device: pump\nidentity:\n  addresses: [198.51.100.1]\n");
  dir.write("profiles/b.yaml", "device: pump\nidentity:\n  addresses: [198.51.100.2]\n");
  std::vector<std::string> m = messages(load());
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].substr(0, m[0].find(" in ")),
            "b.yaml:1:9: error: device 'pump' is already defined");
  EXPECT_NE(m[0].find("a.yaml:1"), std::string::npos);
}

TEST_F(Loader, TwoProfilesClaimingTheSameAddressOrMac) {
  config();
  dir.write("profiles/a.yaml",
            "device: a\nidentity:\n  addresses: [198.51.100.1, \"2001:db8::1\"]\n  mac: "
            "\"02:00:00:00:00:01\"\n");
  dir.write(
      "profiles/b.yaml",
      "device: b\nidentity:\n  addresses: [\"2001:db8:0::1\"]\n  mac: \"02:00:00:00:00:01\"\n");
  std::vector<std::string> m = messages(load());
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(
      m[0].rfind("b.yaml:3:15: error: address 2001:db8::1 is already claimed by device 'a' (", 0),
      0u)
      << m[0];
  EXPECT_EQ(
      m[1].rfind("b.yaml:4:8: error: MAC 02:00:00:00:00:01 is already claimed by device 'a' (", 0),
      0u)
      << m[1];
}

void setModified(const std::string& path, time_t seconds, long nanoseconds = 0) {
  const timespec times[2] = {{seconds, nanoseconds}, {seconds, nanoseconds}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0) << path;
}

TEST_F(Loader, AConflictIsBlamedOnTheFileModifiedLast) {
  config();
  std::string a = dir.write("profiles/a.yaml",
                            "device: a\nidentity:\n  addresses: [198.51.100.1]\n  mac: "
                            "\"02:00:00:00:00:01\"\n");
  std::string b = dir.write("profiles/b.yaml",
                            "device: b\nidentity:\n  mac: \"02:00:00:00:00:01\"\n  addresses: "
                            "[198.51.100.1]\n");
  // a was edited after b: a is to blame, though b comes later.
  setModified(a, 1700000200);
  setModified(b, 1700000100);
  EXPECT_EQ(messages(load()),
            (std::vector<std::string>{
                "a.yaml:3:15: error: address 198.51.100.1 is already claimed by device 'b' (" + b +
                    ":4:15)",
                "a.yaml:4:8: error: MAC 02:00:00:00:00:01 is already claimed by device 'b' (" + b +
                    ":3:8)",
            }));
  setModified(b, 1700000300);
  EXPECT_EQ(messages(load()),
            (std::vector<std::string>{
                "b.yaml:3:8: error: MAC 02:00:00:00:00:01 is already claimed by device 'a' (" + a +
                    ":4:8)",
                "b.yaml:4:15: error: address 198.51.100.1 is already claimed by device 'a' (" + a +
                    ":3:15)",
            }));
  // Nanoseconds count; on a tie, the later file in load order.
  setModified(a, 1700000300, 2);
  setModified(b, 1700000300, 1);
  EXPECT_EQ(messages(load()).front().substr(0, 12), "a.yaml:3:15:");
  setModified(a, 1700000300, 1);
  EXPECT_EQ(messages(load()).front().substr(0, 11), "b.yaml:3:8:");
}

TEST_F(Loader, ADuplicateDeviceNameIsBlamedOnTheFileModifiedLast) {
  config();
  std::string a =
      dir.write("profiles/a.yaml", "device: pump\nidentity:\n  addresses: [198.51.100.1]\n");
  std::string b =
      dir.write("profiles/b.yaml", "device: pump\nidentity:\n  addresses: [198.51.100.2]\n");
  setModified(a, 1700000200);
  setModified(b, 1700000100);
  EXPECT_EQ(messages(load()), std::vector<std::string>{"a.yaml:1:9: error: device 'pump' is "
                                                       "already defined in " +
                                                       b + ":1:9"});
  setModified(b, 1700000200);
  EXPECT_EQ(messages(load()), std::vector<std::string>{"b.yaml:1:9: error: device 'pump' is "
                                                       "already defined in " +
                                                       a + ":1:9"});
}

TEST_F(Loader, GroupErrors) {
  config();
  dir.write("groups.yaml",
            "groups:\n  Bad_Name: [203.0.113.1]\n  any-group: [any]\n  g: [203.0.113.1, "
            "203.0.113.1, 203.0.113.5/24]\n  h: []\n");
  EXPECT_EQ(messages(load()),
            (std::vector<std::string>{
                "groups.yaml:2:3: error: invalid group name 'Bad_Name': use 1 to 63 of a-z, 0-9, "
                "'_', '.', '-', starting with a letter or digit",
                "groups.yaml:3:15: error: 'any' is not allowed in a group; write 'any' in the rule "
                "itself",
                "groups.yaml:4:20: warning: '203.0.113.1' is listed twice in group 'g'",
                "groups.yaml:4:33: error: prefix '203.0.113.5/24' has host bits set (did you mean "
                "203.0.113.0/24?)",
                "groups.yaml:5:6: error: group 'h' must not be empty",
                "ringfence.yaml:1:11: error: profiles directory '" + dir.file("profiles") +
                    "' does not exist or is not a directory",
            }));
}

TEST_F(Loader, ConfigurationErrors) {
  dir.write("ringfence.yaml",
            "profiles: p\ntable: 9bad\ndevice_interfaces: [dev0, dev0, \"a/b\"]\nadmin_group: "
            "Root!\nstate: x\n");
  dir.write("p/a.yaml", "device: a\nidentity:\n  addresses: [198.51.100.1]\n");
  EXPECT_EQ(messages(load()),
            (std::vector<std::string>{
                "ringfence.yaml:2:8: error: invalid table name '9bad' (a letter, then letters, "
                "digits or '_'; at most 64)",
                "ringfence.yaml:3:27: error: interface 'dev0' is listed twice",
                "ringfence.yaml:3:33: error: invalid interface name 'a/b' (1 to 15 characters, no "
                "'/', ':' or spaces)",
                "ringfence.yaml:4:14: error: invalid admin_group 'Root!' (a Unix group name)",
                "ringfence.yaml:5:1: error: unknown key 'state' in configuration (did you mean "
                "'state_dir'?)",
            }));
}

TEST_F(Loader, TopologyAndUplinkInterfaces) {
  dir.write("p/a.yaml", "device: a\nidentity:\n  addresses: [198.51.100.1]\n");
  dir.write("ringfence.yaml", "profiles: p\ntopology: routed\nuplink_interfaces: []\n");
  LoadResult routed = load();
  EXPECT_TRUE(routed.ok()) << ::testing::PrintToString(messages(routed));
  EXPECT_EQ(routed.policy.config.topology, "routed");

  dir.write("ringfence.yaml",
            "profiles: p\ndevice_interfaces: [dev0]\nuplink_interfaces: [lan0]\n");
  EXPECT_EQ(messages(load()),
            (std::vector<std::string>{"ringfence.yaml:3:20: warning: uplink_interfaces is used "
                                      "only with topology: bridge; ignored"}));

  dir.write("ringfence.yaml",
            "profiles: p\ntopology: bridge\ndevice_interfaces: [p1]\nuplink_interfaces: [p1, "
            "p1]\n");
  EXPECT_EQ(messages(load()),
            (std::vector<std::string>{
                "ringfence.yaml:4:20: error: interface 'p1' is both a device interface and an "
                "uplink",
                "ringfence.yaml:4:25: error: interface 'p1' is listed twice",
            }));

  dir.write("ringfence.yaml",
            "profiles: p\ntopology: bridge\ndevice_interfaces: [p1]\nuplink_interfaces: [up1]\n");
  LoadResult bridge = load();
  EXPECT_TRUE(bridge.ok()) << ::testing::PrintToString(messages(bridge));
  EXPECT_EQ(bridge.policy.config.topology, "bridge");
  dir.write("ringfence.yaml", "profiles: p\ntopology: bridge\ndevice_interfaces: [p1]\n");
  EXPECT_EQ(messages(load()),
            (std::vector<std::string>{
                "ringfence.yaml:2:11: error: topology 'bridge' needs uplink_interfaces: the bridge "
                "ports that face the LAN and the devices' router"}));

  dir.write("ringfence.yaml", "profiles: p\ntopology: star\n");
  EXPECT_EQ(messages(load()), (std::vector<std::string>{
                                  "ringfence.yaml:2:11: error: invalid topology 'star' (routed or "
                                  "bridge)"}));
}

TEST_F(Loader, WarningsDoNotRefuse) {
  config("device_interfaces: [dev0]\n");
  dir.write("groups.yaml", "groups:\n  v6: [\"2001:db8::1\"]\n");
  dir.write("profiles/a.yaml", R"(device: a
identity:
  addresses: [198.51.100.1]
  interface: dev9
allow:
  outbound:
    - to: any
      proto: tcp
      ports: [443]
    - to: ["2001:db8::2", "@v6"]
      proto: tcp
      ports: [443]
maintenance:
  - to: 203.0.113.1
    proto: tcp
    ports: [22]
    critical: true
)");
  LoadResult r = load();
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(
      messages(r),
      (std::vector<std::string>{
          "a.yaml:1:9: warning: device 'a' is bound to interface 'dev9', which is not among "
          "device_interfaces",
          "a.yaml:7:11: warning: 'any' allows every address of the family",
          "a.yaml:10:12: warning: peer 2001:db8::2 can never match: device 'a' has no IPv6 address",
          "a.yaml:10:27: warning: group '@v6' has no member that can match this device and "
          "protocol",
          "a.yaml:17:15: warning: critical has no effect on a maintenance rule: isolation closes "
          "it",
      }));
}

TEST_F(Loader, OversizedProfileIsRefusedWithoutReadingItAll) {
  config();
  dir.write("profiles/big.yaml", "device: big\n#" + std::string(2 * 1024 * 1024, 'x') + "\n");
  std::vector<std::string> m = messages(load());
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0], "big.yaml:1:1: error: file is larger than 1048576 bytes");
}

TEST_F(Loader, DeeplyNestedProfileIsRefused) {
  config();
  dir.write("profiles/deep.yaml", "device: deep\ninventory:\n  x: " + std::string(100, '[') +
                                      std::string(100, ']') + "\n");
  std::vector<std::string> m = messages(load());
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0], "deep.yaml:3:68: error: nested deeper than 64 levels");
}

TEST_F(Loader, OutboundLimitsHaveSafeDefaultsAndCanBeRaised) {
  dir.write("ringfence.yaml", "profiles: p\nconntrack_warn_percent: 60\n");
  dir.write("p/a.yaml", "device: a\nidentity:\n  addresses: [198.51.100.1]\n");
  dir.write("p/b.yaml",
            "device: b\nidentity:\n  addresses: [198.51.100.2]\nlimits:\n"
            "  outbound_new_per_second: 2000\n  concurrent_connections: 8192\n");
  LoadResult r = load();
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(messages(r));
  EXPECT_EQ(r.policy.devices[0].outboundRate(), kDefaultOutboundNewPerSecond);
  EXPECT_EQ(r.policy.devices[0].outboundConnections(), kDefaultConcurrentConnections);
  EXPECT_EQ(r.policy.devices[1].outboundRate(), 2000u);
  EXPECT_EQ(r.policy.devices[1].outboundConnections(), 8192u);
  Device learner = r.policy.devices[0];
  learner.mode = Mode::Learn;
  EXPECT_FALSE(learner.outboundRate()) << "learn and monitor: everything passes unless set";
  EXPECT_FALSE(learner.outboundConnections());
  learner.outboundNewPerSecond = 5;
  EXPECT_EQ(learner.outboundRate(), 5u);
  EXPECT_EQ(r.policy.config.conntrackWarnPercent, 60u);
}

TEST_F(Loader, OutOfRangeLimitsAreErrors) {
  dir.write("ringfence.yaml", "profiles: p\nconntrack_warn_percent: 101\n");
  dir.write("p/a.yaml",
            "device: a\nidentity:\n  addresses: [198.51.100.1]\nlimits:\n"
            "  outbound_new_per_second: 0\n  concurrent_connections: many\n");
  std::vector<std::string> m = messages(load());
  ASSERT_EQ(m.size(), 3u) << ::testing::PrintToString(m);
  EXPECT_NE(m[0].find("a.yaml:5:28: error: outbound_new_per_second"), std::string::npos) << m[0];
  EXPECT_NE(m[1].find("a.yaml:6:27: error: concurrent_connections"), std::string::npos) << m[1];
  EXPECT_NE(m[2].find("ringfence.yaml:2:25: error: conntrack_warn_percent"), std::string::npos)
      << m[2];
}

}  // namespace
}  // namespace ringfence::policy
