// ringfencectl's offline commands: output, options in any order, exit codes.
#include "ctl/ctl.h"

#include <gtest/gtest.h>

#include <sstream>

#include "tests/support/temp_dir.h"

namespace ringfence::ctl {
namespace {

struct CtlRun {
  int code;
  std::string out;
  std::string err;
};

CtlRun ctl(std::vector<std::string> args) {
  std::ostringstream out, err;
  int code = runCtl(args, out, err);
  return {code, out.str(), err.str()};
}

const std::string kExample = RINGFENCE_SOURCE_DIR "/profiles/ringfence.yaml";

TEST(Ctl, ValidateTheExampleConfiguration) {
  CtlRun r = ctl({"validate", "--config", kExample});
  EXPECT_EQ(r.code, kExitOk) << r.out << r.err;
  // The examples put learn and monitor devices beside the enforced pump on
  // dev0, and the check says what that costs.
  const std::string dir = RINGFENCE_SOURCE_DIR "/profiles/devices/";
  const std::string shares =
      "' with enforced device 'pump-3w-01': on one segment they reach each other without the "
      "gateway (docs/ruleset.md, what a routed gateway cannot see)\n";
  EXPECT_EQ(r.out, dir + "lab-analyzer-01.yaml:1:9: warning: device 'lab-analyzer-01' (learn " +
                       "mode) shares interface 'dev0" + shares + dir +
                       "monitor-icu-07.yaml:1:9: warning: device 'monitor-icu-07' (monitor mode) " +
                       "shares interface 'dev0" + shares +
                       "valid: 5 devices, 8 groups, 143 set elements, 0 errors, 2 warnings\n");
  EXPECT_EQ(r.err, "");
}

TEST(Ctl, ValidateWarnsAboutDevicesWithoutBinding) {
  test::TempDir dir;
  dir.write("p/a.yaml", "device: a\nidentity:\n  addresses: [198.51.100.1]\n");
  dir.write("p/b.yaml", "device: b\nidentity:\n  addresses: [198.51.100.2]\n  interface: dev1\n");
  dir.write("p/c.yaml",
            "device: c\nidentity:\n  addresses: [198.51.100.3]\n  mac: 02:00:00:00:00:03\n");
  dir.write("ringfence.yaml", "profiles: p\n");
  CtlRun r = ctl({"validate", "--config", dir.file("ringfence.yaml")});
  EXPECT_EQ(r.code, kExitOk) << r.out << r.err;
  EXPECT_EQ(r.out, dir.file("p/a.yaml") +
                       ":1:9: warning: device 'a' has neither mac: nor interface:, so any host on "
                       "its segment can use its address; bind it (docs/ruleset.md, anti-spoofing)\n"
                       "valid: 3 devices, 0 groups, 36 set elements, 0 errors, 1 warning\n");
}

TEST(Ctl, ValidateWarnsAboutObservedDevicesBesideEnforcedOnes) {
  test::TempDir dir;
  const std::string id = "identity:\n  mac: 02:00:00:00:00:0";
  dir.write("p/a.yaml", "device: a\n" + id + "1\n  addresses: [198.51.100.1]\n");
  dir.write("p/b.yaml", "device: b\nmode: monitor\n" + id + "2\n  addresses: [198.51.100.2]\n");
  dir.write("p/c.yaml", "device: c\nmode: learn\n" + id +
                            "3\n  addresses: [198.51.100.3]\n  interface: dev1\n");
  dir.write("ringfence.yaml", "profiles: p\ndevice_interfaces: [dev0, dev1]\n");
  // Two device interfaces: where the unbound a and b sit is unknown, and c
  // is alone on dev1.
  CtlRun r = ctl({"validate", "--config", dir.file("ringfence.yaml")});
  EXPECT_EQ(r.out, "valid: 3 devices, 0 groups, 42 set elements, 0 errors, 0 warnings\n");
  // One device interface: a and b share it; c on dev1 is alone there.
  dir.write("ringfence.yaml", "profiles: p\ndevice_interfaces: [dev0]\n");
  r = ctl({"validate", "--config", dir.file("ringfence.yaml")});
  EXPECT_EQ(r.out, dir.file("p/b.yaml") +
                       ":1:9: warning: device 'b' (monitor mode) shares interface 'dev0' with "
                       "enforced device 'a': on one segment they reach each other without the "
                       "gateway (docs/ruleset.md, what a routed gateway cannot see)\n" +
                       dir.file("p/c.yaml") +
                       ":1:9: warning: device 'c' is bound to interface 'dev1', which is not among "
                       "device_interfaces\n"
                       "valid: 3 devices, 0 groups, 41 set elements, 0 errors, 2 warnings\n");
}

TEST(Ctl, OptionsBeforeOrAfterTheCommand) {
  EXPECT_EQ(ctl({"--config", kExample, "validate"}).code, kExitOk);
  EXPECT_EQ(ctl({"validate", "--config", kExample}).code, kExitOk);
}

TEST(Ctl, ValidateReportsEveryErrorAndExitsOne) {
  test::TempDir dir;
  dir.write("p/a.yaml", "device: a\nidentity:\n  addresses: [1.2.3.400]\nmode: x\n");
  CtlRun r = ctl({"validate", "--profiles", dir.file("p"), "--config", dir.file("absent.yaml")});
  EXPECT_EQ(r.code, kExitRefused);
  EXPECT_EQ(r.out, dir.file("absent.yaml") + ":1:1: error: configuration file does not exist\n" +
                       dir.file("p/a.yaml") + ":3:15: error: invalid address '1.2.3.400'\n" +
                       dir.file("p/a.yaml") +
                       ":4:7: error: invalid mode 'x' (enforce, monitor or learn)\n"
                       "invalid: 1 device, 0 groups, 4 set elements, 3 errors, 0 warnings\n");
}

TEST(Ctl, ValidateJson) {
  test::TempDir dir;
  dir.write("p/a.yaml", "device: a\nidentity:\n  addresses: [1.2.3.4]\nmode: \"x\\\"y\"\n");
  CtlRun r = ctl({"--json", "validate", "--profiles", dir.file("p")});
  EXPECT_EQ(r.code, kExitRefused);
  EXPECT_EQ(
      r.out,
      "{\"valid\":false,\"devices\":1,\"groups\":0,\"elements\":13,\"errors\":1,\"warnings\":0,"
      "\"diagnostics\":[{\"file\":\"" +
          dir.file("p/a.yaml") +
          "\",\"line\":4,\"column\":7,\"severity\":\"error\",\"message\":\"invalid mode "
          "'x\\\"y' (enforce, monitor or learn)\"}]}\n");
}

TEST(Ctl, ValidateNamesEverySkippedFile) {
  test::TempDir dir;
  const std::string bound = "\n  interface: dev0\n";
  dir.write("p/a.yaml", "device: a\nidentity:\n  addresses: [198.51.100.1]" + bound);
  dir.write("p/B.YAML", "device: b\nidentity:\n  addresses: [198.51.100.2]" + bound);
  dir.write("p/a.yaml.bak", "device: a\n");
  dir.write("p/.hidden.yaml", "device: a\n");
  dir.write("ringfence.yaml", "profiles: p\n");
  CtlRun r = ctl({"validate", "--config", dir.file("ringfence.yaml")});
  EXPECT_EQ(r.code, kExitOk) << r.out << r.err;
  EXPECT_EQ(r.out, dir.file("p/a.yaml.bak") +
                       ":1:1: warning: not read: a backup or temporary copy of a profile? only "
                       "names ending in .yaml or .yml are profiles\n"
                       "valid: 2 devices, 0 groups, 26 set elements, 0 errors, 1 warning\n");
  EXPECT_EQ(r.err, "");
}

TEST(Ctl, ValidateRefusesAPolicyOverTheSizeLimits) {
  test::TempDir dir;
  std::string peers, ports;
  for (int i = 0; i < 200; ++i) {
    peers += (i ? ", " : "") + std::string("10.0.0.") + std::to_string(i + 1);
    ports += (i ? ", " : "") + std::to_string(1000 + i);
  }
  dir.write("p/big.yaml",
            "device: big\nidentity:\n  addresses: [198.51.100.1]\nallow:\n  "
            "outbound:\n    - to: [" +
                peers + "]\n      proto: tcp\n      ports: [" + ports + "]\n");
  dir.write("ringfence.yaml", "profiles: p\n");
  CtlRun r = ctl({"validate", "--config", dir.file("ringfence.yaml")});
  EXPECT_EQ(r.code, kExitRefused);
  EXPECT_EQ(r.out, dir.file("p/big.yaml") +
                       ":1:9: error: device 'big' compiles to 40,009 set elements, more than the "
                       "limit of 16,384 per device; the largest rules: line 6 (200 peers x 200 "
                       "ports): use prefixes, port ranges or fewer peers\n"
                       "invalid: 1 device, 0 groups, 40013 set elements, 1 error, 0 warnings\n");
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(ctl({"compile", "--config", dir.file("ringfence.yaml")}).code, kExitRefused);
}

TEST(Ctl, CompilePrintsTheRulesetAndRefusesBadPolicies) {
  CtlRun good = ctl({"compile", "--config", kExample});
  EXPECT_EQ(good.code, kExitOk);
  EXPECT_EQ(good.out.rfind("table inet ringfence {\n", 0), 0u);
  test::TempDir dir;
  dir.write("p/a.yaml", "device: a\n");
  CtlRun bad = ctl({"compile", "--profiles", dir.file("p")});
  EXPECT_EQ(bad.code, kExitRefused);
  EXPECT_EQ(bad.out, "");
  EXPECT_NE(bad.err.find("missing required key 'identity'"), std::string::npos);
}

TEST(Ctl, CheckOffline) {
  CtlRun allowed = ctl({"check", "--offline", "pump-3w-01", "--to", "203.0.113.21", "--proto",
                        "tcp", "--port", "443", "--config", kExample});
  EXPECT_EQ(allowed.code, kExitOk) << allowed.err;
  EXPECT_EQ(allowed.out.rfind("allowed: ", 0), 0u);
  EXPECT_NE(allowed.out.find("pump-3w-01.yaml:16 (outbound rule of pump-3w-01"), std::string::npos)
      << allowed.out;

  CtlRun denied = ctl({"check", "pump-3w-01", "--offline", "--to", "203.0.113.21", "--proto", "tcp",
                       "--port", "22", "--config", kExample});
  EXPECT_EQ(denied.code, kExitRefused);
  EXPECT_EQ(denied.out.rfind("denied: no outbound rule of pump-3w-01 allows it", 0), 0u)
      << denied.out;

  CtlRun json = ctl({"--json", "check", "--offline", "ct-scanner-01", "--from", "203.0.113.30",
                     "--proto", "tcp", "--port", "104", "--config", kExample});
  EXPECT_EQ(json.code, kExitOk);
  EXPECT_NE(json.out.find("\"allowed\":true"), std::string::npos) << json.out;
  EXPECT_NE(json.out.find("\"direction\":\"inbound\""), std::string::npos);
}

TEST(Ctl, ValidatePrefixOnADeviceAddressIsOneErrorWithoutFollowOnWarnings) {
  test::TempDir dir;
  dir.write("p/a.yaml",
            "device: a\nidentity:\n  addresses: [198.51.100.30/24]\n  interface: dev0\nallow:\n"
            "  outbound:\n    - to: 203.0.113.40\n      proto: tcp\n      ports: [2575]\n");
  dir.write("ringfence.yaml", "profiles: p\n");
  CtlRun r = ctl({"validate", "--config", dir.file("ringfence.yaml")});
  EXPECT_EQ(r.code, kExitRefused);
  EXPECT_EQ(r.out, dir.file("p/a.yaml") +
                       ":3:15: error: device address '198.51.100.30/24' must be a host address, "
                       "without a prefix length\n"
                       "invalid: 1 device, 0 groups, 4 set elements, 1 error, 0 warnings\n");
}

TEST(Ctl, ValidateReportsAMissingProfilesDirectoryAtTheProfilesLine) {
  test::TempDir dir;
  dir.write("ringfence.yaml", "# where the profiles are\nprofiles: devices\n");
  CtlRun r = ctl({"validate", "--config", dir.file("ringfence.yaml")});
  EXPECT_EQ(r.code, kExitRefused);
  EXPECT_EQ(r.out, dir.file("ringfence.yaml") + ":2:11: error: profiles directory '" +
                       dir.file("devices") +
                       "' does not exist or is not a directory\n"
                       "invalid: 0 devices, 0 groups, 4 set elements, 1 error, 0 warnings\n");
}

TEST(Ctl, CheckOfflineTakesADeviceAddressForTheDevice) {
  const std::vector<std::string> flow = {"--to",   "203.0.113.21", "--proto",  "tcp",
                                         "--port", "443",          "--config", kExample};
  auto check = [&](const std::string& device) {
    std::vector<std::string> args = {"check", "--offline", device};
    args.insert(args.end(), flow.begin(), flow.end());
    return ctl(args);
  };
  CtlRun byName = check("pump-3w-01");
  CtlRun byAddress = check("198.51.100.10");
  EXPECT_EQ(byAddress.code, kExitOk) << byAddress.err;
  EXPECT_EQ(byAddress.out, byName.out);
  // Compared as addresses, not as text.
  CtlRun byIpv6 = check("2001:db8:100:0::30");
  EXPECT_EQ(byIpv6.out, check("monitor-icu-07").out) << byIpv6.err;

  CtlRun nobody = check("198.51.100.99");
  EXPECT_EQ(nobody.code, kExitNoSuchDevice);
  EXPECT_EQ(nobody.err, "ringfencectl: no device has address 198.51.100.99\n");
  EXPECT_EQ(check("no-such").err, "ringfencectl: no such device 'no-such'\n");
}

TEST(Ctl, ExitCodes) {
  EXPECT_EQ(ctl({"check", "--offline", "no-such", "--to", "203.0.113.1", "--proto", "tcp", "--port",
                 "1", "--config", kExample})
                .code,
            kExitNoSuchDevice);
  EXPECT_EQ(ctl({}).code, kExitUsage);
  EXPECT_EQ(ctl({"frobnicate"}).code, kExitUsage);
  EXPECT_EQ(ctl({"validate", "--no-such-option"}).code, kExitUsage);
  EXPECT_EQ(ctl({"check", "--offline", "x", "--proto", "tcp"}).code, kExitUsage);
  EXPECT_EQ(
      ctl({"check", "--offline", "x", "--to", "1.2.3.4", "--from", "1.2.3.4", "--proto", "tcp"})
          .code,
      kExitUsage);
  EXPECT_EQ(ctl({"check", "--offline", "pump-3w-01", "--to", "nonsense", "--proto", "tcp", "--port",
                 "1", "--config", kExample})
                .code,
            kExitUsage);
  EXPECT_EQ(ctl({"--help"}).code, kExitOk);
  CtlRun version = ctl({"--version"});
  EXPECT_EQ(version.out, std::string("ringfencectl ") + RINGFENCE_VERSION + "\n");
}

}  // namespace
}  // namespace ringfence::ctl
