// Every file in tests/data/reject is a profile that must be refused with
// exactly the diagnostics listed in its "# expect: LINE:COL: ..." lines.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "policy/loader.h"
#include "tests/support/temp_dir.h"

namespace ringfence::policy {
namespace {

std::vector<std::string> rejectFiles() {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(RINGFENCE_TEST_DATA "/reject")) {
    files.push_back(e.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

class RejectCorpus : public ::testing::TestWithParam<std::string> {};

TEST_P(RejectCorpus, ReportsExactlyTheExpectedDiagnostics) {
  std::string source = std::string(RINGFENCE_TEST_DATA "/reject/") + GetParam();
  std::string text = test::readFile(source);
  std::vector<std::string> expected;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("# expect: ", 0) == 0) expected.push_back(line.substr(10));
  }
  ASSERT_FALSE(expected.empty()) << "a corpus file must state what it expects";

  test::TempDir dir;
  std::string file = dir.write("profiles/" + GetParam(), text);
  LoadOptions options;
  options.configFile = dir.file("absent.yaml");
  options.profilesDir = dir.file("profiles");
  options.groupsFile = RINGFENCE_TEST_DATA "/groups.yaml";
  LoadResult result = loadPolicy(options);

  EXPECT_FALSE(result.ok());
  std::vector<std::string> actual;
  for (const Diagnostic& d : result.diagnostics.sorted()) {
    std::string formatted = formatDiagnostic(d);
    ASSERT_EQ(formatted.rfind(file + ":", 0), 0u) << formatted;
    actual.push_back(formatted.substr(file.size() + 1));
  }
  EXPECT_EQ(actual, expected);
}

INSTANTIATE_TEST_SUITE_P(Files, RejectCorpus, ::testing::ValuesIn(rejectFiles()),
                         [](const auto& info) {
                           std::string name = info.param.substr(0, info.param.find('.'));
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

}  // namespace
}  // namespace ringfence::policy
