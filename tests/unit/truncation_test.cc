// A file cut at any byte, as a reload can see it while an editor or a
// deployment tool writes it: the cut policy is refused, or the change report
// warns of what it loses, or it is no weaker than the whole file (the cut
// took a comment, a default, or a setting whose default is stricter, and the
// report lists that as a notice). No cut weakens a device silently.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <tuple>

#include "policy/policy_changes.h"
#include "policy/sources.h"

namespace ringfence::policy {
namespace {

struct Tally {
  size_t refused = 0, warned = 0, noLoss = 0;
};

int strictness(Mode m) { return m == Mode::Enforce ? 2 : m == Mode::Monitor ? 1 : 0; }
int strictness(UnknownDevices u) {
  return u == UnknownDevices::Drop ? 2 : u == UnknownDevices::Alert ? 1 : 0;
}

// Every flow a device allows, as (kind, proto, peer, ports, critical).
std::set<std::tuple<int, Proto, IpPrefix, PortRange, bool>> flows(const Device& d) {
  std::set<std::tuple<int, Proto, IpPrefix, PortRange, bool>> out;
  int kind = 0;
  for (const auto* rules : {&d.outbound, &d.inbound, &d.maintenance}) {
    for (const Rule& r : *rules) {
      auto ports = r.ports;
      if (ports.empty()) ports.push_back({0, 65535});
      for (const ResolvedPeer& p : r.resolved) {
        for (const PortRange& range : ports)
          out.insert({kind, r.proto, p.prefix, range, r.critical});
      }
    }
    ++kind;
  }
  return out;
}

// The test's own oracle, independent of policyChanges: `cut` keeps every
// device, address, flow and guard of `full`, each at least as strict.
bool noLoss(const Policy& full, const Policy& cut) {
  if (strictness(cut.config.unknownDevices) < strictness(full.config.unknownDevices)) return false;
  for (const std::string& i : full.config.deviceInterfaces) {
    if (std::find(cut.config.deviceInterfaces.begin(), cut.config.deviceInterfaces.end(), i) ==
        cut.config.deviceInterfaces.end()) {
      return false;
    }
  }
  for (const Device& a : full.devices) {
    const Device* b = cut.findDevice(a.name);
    if (!b || b->addresses != a.addresses || b->mac != a.mac || b->interface != a.interface) {
      return false;
    }
    if (a.inboundNewPerSecond &&
        (!b->inboundNewPerSecond || *b->inboundNewPerSecond > *a.inboundNewPerSecond)) {
      return false;
    }
    if (strictness(b->mode) < strictness(a.mode)) return false;
    const ViolationPolicy &va = a.violations, &vb = b->violations;
    if (va.action == ViolationAction::Isolate && vb.action != ViolationAction::Isolate) {
      return false;
    }
    if (vb.threshold > va.threshold || (vb.threshold > 1 && vb.window < va.window)) return false;
    if (vb.release && (!va.release || *vb.release < *va.release)) return false;
    if (flows(a) != flows(*b)) return false;  // a lost flow is a loss too, and so is `critical`
  }
  return true;
}

LoadOptions optionsFor(const std::string& config) {
  LoadOptions o;
  o.configFile = std::string(RINGFENCE_SOURCE_DIR "/") + config;
  o.configRequired = true;
  return o;
}

// Cuts `file` (a pointer into `sources`) at every offset 0..size-1 and checks
// each cut policy against the whole one.
Tally cutEverywhere(PolicySources& sources, SourceFile& file, const LoadOptions& o) {
  LoadResult full = loadPolicy(sources, o);
  EXPECT_TRUE(full.ok()) << file.path;
  EXPECT_FALSE(full.policy.devices.empty());
  const std::string text = file.text;
  Tally t;
  for (size_t cut = 0; cut < text.size(); ++cut) {
    file.text = text.substr(0, cut);
    LoadResult r = loadPolicy(sources, o);
    if (!r.ok()) {
      ++t.refused;
    } else if (hasWarnings(policyChanges(full.policy, r.policy))) {
      ++t.warned;
    } else if (noLoss(full.policy, r.policy)) {
      ++t.noLoss;  // a comment, a default or a stricter setting was cut
    } else {
      ADD_FAILURE() << file.path << " cut at byte " << cut << " of " << text.size()
                    << " is accepted, loses something, and nothing warns:\n"
                    << ::testing::PrintToString(describeChanges(full.policy, r.policy));
    }
  }
  file.text = text;
  return t;
}

// The same YAML with one entry of a block mapping or list moved to the end
// of its parent, for every entry at every level: YAML keys have no order,
// so each variant is the same policy (a list item moved changes only the
// order of rules), and in one of them each guard is the last line.
void reorderings(const std::vector<std::string>& lines, size_t begin, size_t end,
                 const std::string& prefix, const std::string& suffix,
                 std::vector<std::string>& out) {
  auto indent = [&](size_t i) { return lines[i].find_first_not_of(' '); };
  auto ignorable = [&](size_t i) {
    size_t at = indent(i);
    return at == std::string::npos || lines[i][at] == '#';
  };
  size_t level = std::string::npos;
  for (size_t i = begin; i < end; ++i) {
    if (!ignorable(i)) level = std::min(level, indent(i));
  }
  if (level == std::string::npos) return;
  std::vector<std::pair<size_t, size_t>> entries;  // [first line, end)
  for (size_t i = begin; i < end; ++i) {
    if (ignorable(i) || indent(i) != level) continue;
    if (!entries.empty()) entries.back().second = i;
    entries.push_back({i, end});
  }
  if (!entries.empty()) entries.front().first = begin;  // leading comments stay with the first
  auto join = [&](size_t from, size_t to) {
    std::string s;
    for (size_t i = from; i < to; ++i) s += lines[i];
    return s;
  };
  for (size_t e = 0; e < entries.size(); ++e) {
    std::string others;
    for (size_t k = 0; k < entries.size(); ++k) {
      if (k != e) others += join(entries[k].first, entries[k].second);
    }
    const auto [first, last] = entries[e];
    std::string head = lines[first].substr(0, lines[first].find_first_not_of(' ') + 1);
    // The entry moved last, and each reordering of its own body within it.
    out.push_back(prefix + others + join(first, last) + suffix);
    if (lines[first].compare(level, 2, "- ") == 0) continue;  // items: their keys share a line
    reorderings(lines, first + 1, last, prefix + others + lines[first], suffix, out);
  }
}

std::vector<std::string> reorderings(const std::string& text) {
  std::vector<std::string> lines;
  for (size_t at = 0; at < text.size();) {
    size_t end = text.find('\n', at) + 1;
    lines.push_back(text.substr(at, end - at));
    at = end;
  }
  std::vector<std::string> out;
  reorderings(lines, 0, lines.size(), "", "", out);
  return out;
}

// The profile with the most guards: MAC, interface, inbound limit, allow
// rules, violations, maintenance. Cut as written, and cut with each of its
// top-level blocks moved last (the same policy, YAML keys have no order), so
// that every guard is, once, the last thing a cut takes away.
TEST(Truncation, EveryByteOffsetOfAFullProfileIsRefusedOrReported) {
  LoadOptions o = optionsFor("profiles/ringfence.yaml");
  Diagnostics diags;
  PolicySources all = readPolicySources(o, diags);
  PolicySources one = all;
  one.profiles.clear();
  for (const SourceFile& f : all.profiles) {
    if (f.path.str().ends_with("/pump-3w-01.yaml")) one.profiles.push_back(f);
  }
  ASSERT_EQ(one.profiles.size(), 1u);
  const std::string original = one.profiles[0].text;
  LoadResult whole = loadPolicy(one, o);
  const Device& pump = whole.policy.devices.at(0);
  ASSERT_TRUE(pump.mac && !pump.interface.empty() && pump.inboundNewPerSecond &&
              !pump.outbound.empty() && !pump.maintenance.empty())
      << "the test needs a profile with every guard";

  std::vector<std::string> variants = reorderings(original);
  ASSERT_GE(variants.size(), 20u);
  variants.push_back(original);
  for (const std::string& text : variants) {
    one.profiles[0].text = text;
    ASSERT_TRUE(policyChanges(whole.policy, loadPolicy(one, o).policy).empty()) << text;
    Tally t = cutEverywhere(one, one.profiles[0], o);
    size_t size = text.size();
    EXPECT_EQ(t.refused + t.warned + t.noLoss, size);
    // The newline rule refuses every cut inside a line; only cuts at a line
    // boundary can load, and each of those is reported or loses nothing.
    size_t lines = static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
    EXPECT_GE(t.refused, size - lines);
    if (&text == &variants.back()) {  // as written (with `device:` last, every cut is refused)
      EXPECT_GT(t.warned, 0u);
      std::printf("%zu variants; as written, %zu cuts: %zu refused, %zu warned, %zu lose nothing\n",
                  variants.size(), size, t.refused, t.warned, t.noLoss);
    }
  }
}

class TruncatedExamples : public ::testing::TestWithParam<std::string> {};

// Every profile and the groups file of every example configuration.
TEST_P(TruncatedExamples, NoCutWeakensADeviceSilently) {
  LoadOptions o = optionsFor(GetParam());
  Diagnostics diags;
  PolicySources all = readPolicySources(o, diags);
  ASSERT_FALSE(all.profiles.empty());
  for (const SourceFile& profile : all.profiles) {
    PolicySources one = all;
    one.profiles = {profile};
    cutEverywhere(one, one.profiles[0], o);
  }
  if (all.groups) cutEverywhere(all, *all.groups, o);
}

INSTANTIATE_TEST_SUITE_P(Examples, TruncatedExamples,
                         ::testing::Values("profiles/ringfence.yaml",
                                           "tests/data/golden/ringfence.yaml",
                                           "tests/data/lab/ringfence.yaml",
                                           "tests/data/isolate/ringfence.yaml"),
                         [](const auto& info) {
                           std::string dir = info.param.substr(0, info.param.rfind('/'));
                           return dir.substr(dir.rfind('/') + 1);
                         });

}  // namespace
}  // namespace ringfence::policy
