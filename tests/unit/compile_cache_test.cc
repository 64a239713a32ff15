// Compiling what changed (policy/compile_cache.h): a compile with the cache
// gives exactly the plan a compile without it gives, element for element and
// device for device, and compiles again only the devices that changed, or
// every device when the set layout changed.
#include "policy/compile_cache.h"

#include <gtest/gtest.h>

#include "policy/compiler.h"
#include "policy/loader.h"
#include "policy/nft_text.h"
#include "tests/support/compile.h"
#include "tests/support/plan_text.h"
#include "tests/support/policy_generator.h"
#include "tests/support/temp_dir.h"

namespace ringfence::policy {
namespace {

Policy loadOk(const std::string& config) { return test::loadValidConfig(config); }

class CachedCompile : public ::testing::Test {
 protected:
  // Compiles with the cache and checks the plan against an uncached compile.
  // Each compile gets a policy of its own, as each load makes one: the cache
  // shares its devices, and the test goes on changing `p` (device() copies
  // the device it changes).
  CompileCache::Counts compile(const Policy& p) {
    auto locked = cache.lock();
    Plan cached = compilePlan(Policy(p), cache);
    EXPECT_EQ(test::planEverything(cached), test::planEverything(compilePlan(p)));
    std::vector<std::string> layout;
    for (const SetDef& s : cached.sets) layout.push_back(s.name);
    std::vector<CompileCache::Part> parts = cache.find(p.devices, layout);
    for (size_t i = 0; i < p.devices.size(); ++i) {
      EXPECT_NE(parts[i], nullptr) << p.devices[i].name;
      if (parts[i]) {
        EXPECT_EQ(parts[i], cached.devices.shared(i)) << "the plan's own part";
      }
    }
    return cache.lastCompile();
  }
  // The device to change: a copy of its own, since the cache shares the one compiled.
  Device& device(Policy& p, const std::string& name) {
    for (size_t i = 0; i < p.devices.size(); ++i) {
      if (p.devices[i].name == name) return p.devices.edit(i);
    }
    throw std::runtime_error("no device " + name);
  }

  CompileCache cache;
};

TEST_F(CachedCompile, CompilesOnlyWhatChanged) {
  Policy p = loadOk(RINGFENCE_SOURCE_DIR "/profiles/ringfence.yaml");
  size_t n = p.devices.size();
  ASSERT_GE(n, 4u);
  CompileCache::Counts c = compile(p);
  EXPECT_EQ(c.compiled, n);
  EXPECT_EQ(c.reused, 0u);
  c = compile(p);
  EXPECT_EQ(c.compiled, 0u);
  EXPECT_EQ(c.reused, n);

  // One port of one rule.
  Device& pump = device(p, "pump-3w-01");
  ASSERT_FALSE(pump.outbound.empty());
  ASSERT_FALSE(pump.outbound[0].ports.empty());
  pump.outbound[0].ports[0].high = static_cast<uint16_t>(pump.outbound[0].ports[0].high + 1);
  c = compile(p);
  EXPECT_EQ(c.compiled, 1u);
  EXPECT_EQ(c.reused, n - 1);

  // What only a comment shows (the rule's line), and a resolved peer (a group changed).
  device(p, "monitor-icu-07").outbound[0].where.line += 1;
  Rule& r = device(p, "lab-analyzer-01").outbound[0];
  r.resolved.push_back({hostPrefix(parseIpAddress("192.0.2.77").value()), "@changed"});
  c = compile(p);
  EXPECT_EQ(c.compiled, 2u);

  // The mode, the MAC and the isolation threshold change other sets than the rules.
  device(p, "ct-scanner-01").mode = Mode::Monitor;
  c = compile(p);
  EXPECT_EQ(c.compiled, 1u);
  device(p, "ct-scanner-01").violations.threshold += 1;
  Device& ws = device(p, "ws-radiology-win7");
  ws.mac = ws.mac ? std::nullopt : parseMac("02:00:5e:10:20:30");
  c = compile(p);
  EXPECT_EQ(c.compiled, 2u);
}

TEST_F(CachedCompile, ANewSetLayoutCompilesEveryDevice) {
  Policy p = loadOk(RINGFENCE_SOURCE_DIR "/profiles/ringfence.yaml");
  size_t n = p.devices.size();
  compile(p);
  // A rate no device had: new limit sets, so every set index after them moves.
  device(p, "pump-3w-01").outboundNewPerSecond = 7;
  CompileCache::Counts c = compile(p);
  EXPECT_EQ(c.compiled, n);
  EXPECT_EQ(c.reused, 0u);
  device(p, "pump-3w-01").outboundNewPerSecond.reset();
  c = compile(p);
  EXPECT_EQ(c.compiled, n);
  c = compile(p);
  EXPECT_EQ(c.compiled, 0u);
}

// A device found again by its address is not compared field for field; one
// made again, equal to the last (a profile touched and parsed again), still
// takes its part.
TEST_F(CachedCompile, AnEqualDeviceMadeAgainTakesItsPart) {
  Policy p = loadOk(RINGFENCE_SOURCE_DIR "/profiles/ringfence.yaml");
  EXPECT_EQ(compile(p).compiled, p.devices.size());
  Policy again = p;
  again.devices.set(0, DeviceList::make(p.devices[0]));  // an equal copy
  EXPECT_EQ(compile(again).compiled, 0u);
  device(again, "pump-3w-01").outbound[0].where.line += 1;
  EXPECT_EQ(compile(again).compiled, 1u);
}

// A check (the start check) compiles every device, never taking a part
// unseen; a part it compiled equal to the one it was given is replaced by
// that one, so that the two plans share it; a different one is its own.
TEST_F(CachedCompile, ACheckCompilesEveryDeviceAndSharesOnlyWhatIsTheSame) {
  Policy p = loadOk(RINGFENCE_SOURCE_DIR "/profiles/ringfence.yaml");
  size_t n = p.devices.size();
  auto locked = cache.lock();
  Plan given = compilePlan(Policy(p), cache);
  // What it was given: one part wrong for its device (another device's), as
  // a plan read from a file that does not match the profiles.
  std::vector<std::string> layout;
  for (const SetDef& s : given.sets) layout.push_back(s.name);
  std::vector<CompileCache::Part> parts;
  for (size_t i = 0; i < n; ++i) parts.push_back(given.devices.shared(i));
  std::swap(parts[0], parts[1]);
  cache.store(p.devices, parts, layout);
  // A load of its own: devices equal to those given, not the same objects.
  Policy fresh = loadOk(RINGFENCE_SOURCE_DIR "/profiles/ringfence.yaml");
  Device& pump = device(fresh, "pump-3w-01");
  pump.outbound[0].ports[0].high = static_cast<uint16_t>(pump.outbound[0].ports[0].high + 1);
  cache.checkNext();
  Plan checked = compilePlan(Policy(fresh), cache);
  EXPECT_FALSE(cache.checking());
  EXPECT_EQ(cache.lastCompile().compiled, n);
  EXPECT_EQ(cache.lastCompile().reused, 0u);
  EXPECT_EQ(test::planEverything(checked), test::planEverything(compilePlan(fresh)));
  for (size_t i = 0; i < n; ++i) {
    const std::string& name = fresh.devices[i].name;
    bool same = i >= 2 && name != "pump-3w-01";
    EXPECT_EQ(checked.devices.shared(i) == parts[i], same) << name;
  }
  // Given with the very device objects it compiles (as a check's load shares
  // them), a part is still compiled and compared, never taken unseen.
  std::vector<CompileCache::Part> wrong;
  for (size_t i = 0; i < n; ++i) wrong.push_back(checked.devices.shared(i));
  std::swap(wrong[0], wrong[1]);
  cache.store(fresh.devices, wrong, layout);
  cache.checkNext();
  Plan again = compilePlan(Policy(fresh), cache);
  EXPECT_EQ(cache.lastCompile().compiled, n);
  EXPECT_EQ(test::planEverything(again), test::planEverything(compilePlan(fresh)));
  for (size_t i = 0; i < n; ++i)
    EXPECT_EQ(again.devices.shared(i) == wrong[i], i >= 2) << fresh.devices[i].name;
}

TEST_F(CachedCompile, ARemovedDeviceIsForgotten) {
  Policy p = loadOk(RINGFENCE_SOURCE_DIR "/profiles/ringfence.yaml");
  size_t n = p.devices.size();
  compile(p);
  Policy fewer = p;
  fewer.devices.erase(fewer.devices.begin());
  CompileCache::Counts c = compile(fewer);
  EXPECT_EQ(c.compiled, 0u);
  EXPECT_EQ(c.reused, n - 1);
  c = compile(p);  // back: compiled again, not remembered
  EXPECT_EQ(c.compiled, 1u);
}

TEST_F(CachedCompile, AGeneratedPolicyAndTheBridgeTopology) {
  test::TempDir dir;
  Policy p = loadOk(test::writeGeneratedPolicy(dir.path(), 300).string());
  compile(p);
  p.devices.edit(150).addresses.pop_back();
  p.devices.edit(150).addressWhere.pop_back();
  EXPECT_EQ(compile(p).compiled, 1u);

  Policy bridge = loadOk(RINGFENCE_TEST_DATA "/bridge/ringfence.yaml");
  compile(bridge);
  Device& last = bridge.devices.edit(bridge.devices.size() - 1);
  last.interface = last.interface == "dev1" ? "dev0" : "dev1";
  EXPECT_EQ(compile(bridge).compiled, 1u);
}

}  // namespace
}  // namespace ringfence::policy
