// Timing of the control plane: validate+compile, a full apply through
// netlink, `nft -f` on the same text, and a one-device change applied by
// reload. Run inside a fresh network namespace (scripts/bench.sh does);
// prints medians and asserts nothing.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "netlink/batch.h"
#include "netlink/encoder.h"
#include "netlink/netlink_sink.h"
#include "policy/compiler.h"
#include "policy/loader.h"
#include "policy/nft_text.h"
#include "policy/plan_diff.h"
#include "tests/support/policy_generator.h"

using namespace ringfence;
using Clock = std::chrono::steady_clock;

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

double timeMs(const std::function<void()>& f) {
  auto start = Clock::now();
  f();
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// The policy and its plan: freeing them is not part of validate+compile (the
// daemon keeps both), so the timed calls hand them back to be freed after.
struct Compiled {
  policy::Policy policy;
  policy::Plan plan;
};

std::unique_ptr<Compiled> loadAndCompile(const std::string& config) {
  policy::LoadOptions o;
  o.configFile = config;
  o.configRequired = true;
  policy::LoadResult r = policy::loadPolicy(o);
  if (!r.ok()) {
    std::cerr << "generated policy invalid\n";
    std::exit(1);
  }
  auto out = std::make_unique<Compiled>();
  out->policy = std::move(r.policy);
  out->plan = policy::compilePlan(out->policy);
  return out;
}

void run(const std::string& command) {
  if (std::system(command.c_str()) != 0) {
    std::cerr << "failed: " << command << "\n";
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: bench_apply DEVICES RUNS WORKDIR   (inside a network namespace)\n";
    return 2;
  }
  size_t devices = std::stoul(argv[1]);
  int runs = std::stoi(argv[2]);
  std::filesystem::path work = argv[3];
  std::string config = test::writeGeneratedPolicy(work / "policy", devices).string();

  std::vector<double> compileMs, applyMs, encodeMs, nftMs, changeApplyMs, changeReloadMs, diffMs;
  size_t changedElements = 0;
  std::unique_ptr<Compiled> compiled;
  for (int i = 0; i < runs; ++i) {
    compiled.reset();
    compileMs.push_back(timeMs([&] { compiled = loadAndCompile(config); }));
  }
  const policy::Plan& plan = compiled->plan;
  std::string text = (work / "ruleset.nft").string();
  std::ofstream(text) << policy::renderNft(plan);

  for (int i = 0; i < runs; ++i) {
    run("nft delete table inet ringfence 2>/dev/null || true");
    auto sink = netlink::NetlinkSink::open(false);
    applyMs.push_back(timeMs([&] {
      if (auto r = sink->replace(plan, {}); !r) {
        std::cerr << r.error() << "\n";
        std::exit(1);
      }
    }));
  }
  for (int i = 0; i < runs; ++i) {
    run("nft delete table inet ringfence 2>/dev/null || true");
    nftMs.push_back(timeMs([&] { run("nft -f " + text); }));
  }
  // The apply's own part: the batch encoded in memory, nothing sent.
  for (int i = 0; i < runs; ++i) {
    encodeMs.push_back(timeMs([&] {
      netlink::Batch batch(1);
      netlink::encodeFullApply(batch, plan, {false, 0});
      batch.finish();
    }));
  }

  // One device's profile changes (a port added, then removed again) and the daemon reloads.
  run("nft delete table inet ringfence 2>/dev/null || true");
  auto sink = netlink::NetlinkSink::open(false);
  if (!sink->replace(plan, {})) return 1;
  auto running = std::make_unique<policy::Plan>(plan);
  std::filesystem::path victim =
      work / "policy" / "devices" / ("gen-" + std::to_string(devices / 2) + ".yaml");
  std::string original;
  {
    std::ifstream in(victim);
    original.assign(std::istreambuf_iterator<char>(in), {});
  }
  for (int i = 0; i < runs; ++i) {
    std::string edited = original;
    if (i % 2 == 0) edited.replace(edited.find("ports: [443]"), 12, "ports: [443, 444]");
    std::ofstream(victim) << edited;
    std::unique_ptr<Compiled> next;
    std::unique_ptr<policy::Plan> previous;  // freed after the timing, as above
    double reload = timeMs([&] {
      next = loadAndCompile(config);
      policy::PlanDiff diff;
      diffMs.push_back(timeMs([&] { diff = policy::diffPlans(*running, next->plan); }));
      changedElements += diff.elementChanges();
      changeApplyMs.push_back(timeMs([&] {
        if (!sink->update(*running, next->plan, diff)) std::exit(1);
      }));
      previous = std::exchange(running, std::make_unique<policy::Plan>(std::move(next->plan)));
    });
    changeReloadMs.push_back(reload);
  }
  run("nft delete table inet ringfence 2>/dev/null || true");

  double c = median(compileMs), a = median(applyMs), n = median(nftMs);
  if (changedElements != static_cast<size_t>(runs)) {
    std::fprintf(stderr, "expected one element change per edit, got %zu in %d edits\n",
                 changedElements, runs);
    return 1;
  }
  std::printf(
      "| %6zu | %7zu | %8.1f ms | %8.1f ms (encoding %.1f ms) | %8.1f ms | %5.2f | %5.2f | %6.2f "
      "ms "
      "(diff %5.2f ms) | %6.1f ms |\n",
      devices, plan.elementCount(), c, a, median(encodeMs), n, a / n, (c + a) / n,
      median(changeApplyMs), median(diffMs), median(changeReloadMs));
  return 0;
}
