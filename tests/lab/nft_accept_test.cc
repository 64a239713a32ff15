// `compile` output must be accepted by the real nft on this kernel: checked
// with `nft -c -f` inside a network namespace the test creates and removes.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <iostream>

#include "policy/compiler.h"
#include "policy/failsafe.h"
#include "policy/loader.h"
#include "policy/nft_text.h"
#include "tests/support/compile.h"
#include "tests/support/lab.h"
#include "tests/support/policy_generator.h"
#include "tests/support/temp_dir.h"

namespace ringfence::test {
namespace {

using Clock = std::chrono::steady_clock;

std::string compileConfig(const std::string& config) {
  return policy::renderNft(compileValidConfig(config));
}

void expectNftAccepts(const std::string& text, const std::string& what) {
  TempDir dir;
  std::string file = dir.write("ruleset.nft", text);
  ScopedNetns ns("nft");
  std::string out;
  int rc = ns.exec("nft -c -f " + shellQuote(file), &out);
  EXPECT_EQ(rc, 0) << what << ": nft -c refused it:\n" << out.substr(0, 4000);
}

TEST(NftAccepts, ExampleConfiguration) {
  RINGFENCE_REQUIRE_ROOT();
  expectNftAccepts(compileConfig(RINGFENCE_SOURCE_DIR "/profiles/ringfence.yaml"), "profiles/");
}

TEST(NftAccepts, GoldenConfiguration) {
  RINGFENCE_REQUIRE_ROOT();
  expectNftAccepts(compileConfig(RINGFENCE_TEST_DATA "/golden/ringfence.yaml"), "golden");
}

TEST(NftAccepts, LoadsIntoTheKernelAndListsBack) {
  RINGFENCE_REQUIRE_ROOT();
  TempDir dir;
  std::string file =
      dir.write("ruleset.nft", compileConfig(RINGFENCE_TEST_DATA "/golden/ringfence.yaml"));
  ScopedNetns ns("load");
  std::string out;
  ASSERT_EQ(ns.exec("nft -f " + shellQuote(file), &out), 0) << out;
  ASSERT_EQ(ns.exec("nft list table inet rf_golden", &out), 0) << out;
  EXPECT_NE(out.find("198.51.100.10 . 203.0.113.64/26 . tcp . 8000-8010"), std::string::npos)
      << out;
  ASSERT_EQ(ns.exec("nft list chain inet rf_golden forward", &out), 0) << out;
  EXPECT_NE(out.find("hook forward"), std::string::npos) << out;
}

TEST(NftAccepts, TenThousandDevices) {
  RINGFENCE_REQUIRE_ROOT();
  TempDir dir;
  std::string config = writeGeneratedPolicy(dir.path() / "policy", 10000).string();
  auto start = Clock::now();
  std::string text = compileConfig(config);
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  // A figure for people, not an assertion: performance is measured, not tested.
  std::cout << "[ figure ] validate+compile of 10000 devices: " << static_cast<int>(seconds * 1000)
            << " ms, " << text.size() / 1024 << " KiB of nft text\n";
  expectNftAccepts(text, "10000 generated devices");
}

TEST(NftAccepts, FailsafeTable) {
  RINGFENCE_REQUIRE_ROOT();
  expectNftAccepts(policy::renderNft(policy::failsafePlan("ringfence", {"dev0", "dev1"})),
                   "failsafe");
  expectNftAccepts(policy::renderNft(policy::failsafePlan("ringfence", {})), "failsafe, no ifs");
}

}  // namespace
}  // namespace ringfence::test
