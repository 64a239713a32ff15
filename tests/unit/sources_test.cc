// Reading and parsing apart: the sources of a policy, their one-file form,
// and loading from memory giving exactly what loading from disk gives.
#include "policy/sources.h"

#include <gtest/gtest.h>

#include "policy/compiler.h"
#include "policy/nft_text.h"
#include "tests/support/temp_dir.h"

namespace ringfence::policy {
namespace {

std::vector<std::string> formatted(const Diagnostics& d) {
  std::vector<std::string> out;
  for (const Diagnostic& x : d.sorted()) out.push_back(formatDiagnostic(x));
  return out;
}

// What a loaded policy means, in text: enough to tell two loads apart.
std::string meaning(const LoadResult& r) {
  std::string out;
  for (const std::string& d : formatted(r.diagnostics)) out += d + "\n";
  const DaemonConfig& c = r.policy.config;
  out += c.file + "|" + c.profilesDir + "|" + c.groupsFile + "|" + c.stateDir + "|" + c.table +
         "|" + toString(c.unknownDevices) + "|" + c.adminGroup + "\n";
  for (const Device& d : r.policy.devices) {
    out += d.name + " " + d.file.str() + " " + d.description + "\n";
    for (const auto& [k, v] : d.inventory) out += "  " + k + "=" + v + "\n";
  }
  if (r.ok()) out += renderNft(compilePlan(r.policy));
  return out;
}

LoadOptions forConfig(const std::string& config) {
  LoadOptions o;
  o.configFile = config;
  o.configRequired = true;
  return o;
}

class ExampleConfigs : public ::testing::TestWithParam<std::string> {};

TEST_P(ExampleConfigs, LoadingFromSourcesEqualsLoadingFromDisk) {
  LoadOptions o = forConfig(std::string(RINGFENCE_SOURCE_DIR "/") + GetParam());
  LoadResult fromDisk = loadPolicy(o);
  ASSERT_TRUE(fromDisk.ok()) << ::testing::PrintToString(formatted(fromDisk.diagnostics));
  ASSERT_FALSE(fromDisk.policy.devices.empty());

  Diagnostics readDiags;
  PolicySources sources = readPolicySources(o, readDiags);
  EXPECT_TRUE(readDiags.all().empty()) << ::testing::PrintToString(formatted(readDiags));
  ASSERT_TRUE(sources.config);
  EXPECT_EQ(sources.profiles.size(), fromDisk.policy.devices.size());
  EXPECT_TRUE(
      std::is_sorted(sources.profiles.begin(), sources.profiles.end(),
                     [](const auto& a, const auto& b) { return a.path.str() < b.path.str(); }));
  EXPECT_EQ(meaning(loadPolicy(sources, o)), meaning(fromDisk));

  // Through the one-file form and back: the same sources, the same policy.
  std::string saved = serializeSources(sources);
  auto restored = parseSerializedSources(saved);
  ASSERT_TRUE(restored) << restored.error();
  EXPECT_EQ(*restored, sources);
  EXPECT_EQ(sourcesHash(*restored), sourcesHash(sources));
  EXPECT_EQ(meaning(loadPolicy(*restored, o)), meaning(fromDisk));
}

INSTANTIATE_TEST_SUITE_P(Examples, ExampleConfigs,
                         ::testing::Values("profiles/ringfence.yaml",
                                           "tests/data/golden/ringfence.yaml",
                                           "tests/data/lab/ringfence.yaml",
                                           "tests/data/isolate/ringfence.yaml"),
                         [](const auto& info) {
                           std::string dir = info.param.substr(0, info.param.rfind('/'));
                           return dir.substr(dir.rfind('/') + 1);
                         });

TEST(Sources, ErrorsFromSourcesEqualErrorsFromDisk) {
  test::TempDir dir;
  dir.write("ringfence.yaml", "profiles: p\ngroups: g.yaml\nunknown_devices: maybe\n");
  dir.write("g.yaml", "groups:\n  x: [\"@y\"]\n");
  dir.write("p/a.yaml", "device: a\nidentity:\n  addresses: [198.51.100.1]\nmode: x\n");
  dir.write("p/b.yaml", "device: a\nidentity:\n  addresses: [198.51.100.1]\n");
  LoadOptions o = forConfig(dir.file("ringfence.yaml"));
  LoadResult fromDisk = loadPolicy(o);
  EXPECT_EQ(fromDisk.diagnostics.errorCount(), 5u)
      << ::testing::PrintToString(formatted(fromDisk.diagnostics));
  Diagnostics readDiags;
  PolicySources sources = readPolicySources(o, readDiags);
  EXPECT_TRUE(readDiags.all().empty());
  EXPECT_EQ(meaning(loadPolicy(sources, o)), meaning(fromDisk));
}

TEST(Sources, ConfigurationDecidesPathsRelativeToItsDirectoryAndOptionsOverride) {
  test::TempDir dir;
  dir.write("etc/ringfence.yaml", "profiles: p\ngroups: ../g.yaml\ntable: from_file\n");
  dir.write("etc/p/a.yaml", "device: a\nidentity:\n  addresses: [198.51.100.1]\n");
  dir.write("g.yaml", "groups:\n  x: [203.0.113.1]\n");
  dir.write("other/b.yaml", "device: b\nidentity:\n  addresses: [198.51.100.2]\n");
  LoadOptions o = forConfig(dir.file("etc/ringfence.yaml"));
  Diagnostics diags;
  PolicySources s = readPolicySources(o, diags);
  ASSERT_TRUE(s.groups);
  EXPECT_EQ(s.groups->path, dir.file("g.yaml"));
  ASSERT_EQ(s.profiles.size(), 1u);
  EXPECT_EQ(s.profiles[0].path, dir.file("etc/p/a.yaml"));

  o.profilesDir = dir.file("other");
  o.table = "from_cli";
  s = readPolicySources(o, diags);
  EXPECT_TRUE(diags.all().empty());
  ASSERT_EQ(s.profiles.size(), 1u);
  EXPECT_EQ(s.profiles[0].path, dir.file("other/b.yaml"));
  LoadResult r = loadPolicy(s, o);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.policy.config.table, "from_cli");
  EXPECT_EQ(r.policy.config.profilesDir, dir.file("other"));
}

TEST(Sources, NoConfigurationMeansDefaults) {
  PolicySources s;
  s.profiles.push_back({"mem/a.yaml", "device: a\nidentity:\n  addresses: [198.51.100.1]\n"});
  LoadResult r = loadPolicy(s, LoadOptions{});
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(formatted(r.diagnostics));
  EXPECT_EQ(r.policy.config.table, "ringfence");
  EXPECT_EQ(r.policy.devices.at(0).file, "mem/a.yaml");
}

TEST(Sources, ParsingFromMemoryReadsNoFile) {
  // Paths that do not exist: everything comes from the texts.
  PolicySources s;
  s.config = SourceFile{"/nonexistent/ringfence.yaml", "profiles: p\ngroups: g.yaml\n"};
  s.groups = SourceFile{"/nonexistent/g.yaml", "groups:\n  x: [203.0.113.1]\n"};
  s.profiles.push_back({"/nonexistent/p/a.yaml",
                        "device: a\nidentity:\n  addresses: [198.51.100.1]\nallow:\n  outbound:\n"
                        "    - to: \"@x\"\n      proto: tcp\n      ports: [443]\n"});
  LoadResult r = loadPolicy(s, forConfig("/nonexistent/ringfence.yaml"));
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(formatted(r.diagnostics));
  EXPECT_EQ(r.policy.devices.at(0).outbound.at(0).resolved.size(), 1u);
  EXPECT_EQ(r.policy.config.profilesDir, "/nonexistent/p");
}

PolicySources awkwardSources() {
  PolicySources s;
  s.config = SourceFile{"c\nonfig 1 2\n", std::string("end 0\n\0\xff", 8)};
  s.profiles.push_back({"", ""});
  s.profiles.push_back({"p 3 4", "\n\n\nend 3\n"});
  s.profiles.push_back({std::string(1, '\0'), std::string(70000, 'x')});
  return s;
}

TEST(SerializedSources, RoundTripsAnyBytes) {
  for (const PolicySources& s : {PolicySources{}, awkwardSources()}) {
    std::string text = serializeSources(s);
    EXPECT_EQ(text.rfind("ringfence-policy-sources 1\n", 0), 0u);
    auto back = parseSerializedSources(text);
    ASSERT_TRUE(back) << back.error();
    EXPECT_EQ(*back, s);
    EXPECT_EQ(serializeSources(*back), text);
  }
  PolicySources withGroups;
  withGroups.groups = SourceFile{"g", "groups: {}\n"};
  auto back = parseSerializedSources(serializeSources(withGroups));
  ASSERT_TRUE(back);
  EXPECT_FALSE(back->config);
  EXPECT_EQ(*back, withGroups);
}

TEST(SerializedSources, RefusesEveryTruncationAndTrailingData) {
  std::string text = serializeSources(awkwardSources());
  for (size_t cut = 0; cut < text.size(); cut += (cut < 200 || text.size() - cut < 200) ? 1 : 997) {
    EXPECT_FALSE(parseSerializedSources(std::string_view(text).substr(0, cut))) << cut;
  }
  EXPECT_FALSE(parseSerializedSources(text + "x"));
  EXPECT_FALSE(parseSerializedSources(text + "end 3\n"));
}

TEST(SerializedSources, RefusesMalformedInput) {
  auto err = [](std::string_view t) {
    auto r = parseSerializedSources(t);
    return r ? std::string("accepted") : r.error();
  };
  EXPECT_EQ(err("hello\n"),
            "not a saved policy (the first line is not 'ringfence-policy-sources 1')");
  EXPECT_EQ(err("ringfence-policy-sources 2\nend 0\n"),
            "unsupported version of the saved policy format");
  const std::string h = "ringfence-policy-sources 1\n";
  EXPECT_EQ(err(h + "end 0\n"), "accepted");
  EXPECT_EQ(err(h + "end 1\n"), "saved policy has a wrong file count");
  EXPECT_EQ(err(h + "profile 1 x\na\n\n"), "saved policy has a malformed length");
  EXPECT_EQ(err(h + "profile 01 0\na\n\nend 1\n"), "saved policy has a malformed length");
  EXPECT_EQ(err(h + "profile 1 99999999999999999999\na\n\n"),
            "saved policy has a malformed length");
  EXPECT_EQ(err(h + "profile 1 5\na\nab\nend 1\n"), "saved policy is truncated inside a file");
  EXPECT_EQ(err(h + "profile 1 0\na\n\nconfig 1 0\nc\n\nend 2\n"),
            "saved policy has an unknown or misplaced record");
  EXPECT_EQ(err(h + "groups 1 0\na\n\ngroups 1 0\nc\n\nend 2\n"),
            "saved policy has an unknown or misplaced record");
  EXPECT_EQ(err(h + "secret 1 0\na\n\nend 1\n"), "saved policy has an unknown or misplaced record");
  EXPECT_EQ(err(h + "profile 1 0\n"), "saved policy is truncated inside a file");
  EXPECT_EQ(err(h + "profile 1\n"), "saved policy has a malformed record line");
}

TEST(SerializedSources, HashIsStableAndSeesEveryByte) {
  PolicySources a;
  a.profiles.push_back({"p/a.yaml", "device: a\n"});
  PolicySources b = a;
  b.profiles[0].text = "device: b\n";
  EXPECT_NE(sourcesHash(a), sourcesHash(b));
  PolicySources c = a;
  c.profiles[0].path = "p/b.yaml";
  EXPECT_NE(sourcesHash(a), sourcesHash(c));
  PolicySources e;
  EXPECT_EQ(sourcesHash(e), 0x9e7cdd71602095e0ull);  // of "ringfence-policy-sources 1\nend 0\n"
}

}  // namespace
}  // namespace ringfence::policy
