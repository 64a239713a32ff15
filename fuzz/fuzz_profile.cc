// libFuzzer target for the profile loader: any bytes, read as a profile, a
// groups file and a configuration, then compiled when valid. Must never
// crash, hang or leak, whatever the input. Every text the simple YAML
// reader accepts must give yaml-cpp's tree, without a word from yaml-cpp.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "policy/compiler.h"
#include "policy/limits.h"
#include "policy/loader.h"
#include "policy/nft_text.h"
#include "policy/profile_parser.h"
#include "policy/yaml_simple.h"
#include "policy/yaml_tree.h"

using namespace ringfence::policy;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto simple = parseSimpleYaml(text, YamlLimits{})) {
    Diagnostics full;
    auto tree = parseYamlWithYamlCpp(text, "fuzz.yaml", full);
    if (!tree || !(*tree == *simple) || !full.all().empty()) std::abort();
  }
  Diagnostics diags;
  auto root = parseYaml(text, "fuzz.yaml", diags);
  if (!root) return 0;
  parseGroups(*root, "fuzz.yaml", diags);
  parseConfig(*root, "fuzz.yaml", diags);
  Diagnostics profileDiags;
  auto device = parseProfile(*root, "fuzz.yaml", profileDiags);
  if (!device || profileDiags.hasErrors()) return 0;
  Policy policy;
  policy.groups["servers"] = Group{"servers", {*parseIpPrefix("203.0.113.0/24").prefix}, {}};
  policy.devices.push_back(std::move(*device));
  resolvePolicy(policy, profileDiags);
  checkPlanLimits(policy, profileDiags);  // as loadPolicy does: no compile of a huge plan
  if (profileDiags.hasErrors()) return 0;
  std::string nft = renderNft(compilePlan(policy));
  return nft.empty() ? -1 : 0;
}
