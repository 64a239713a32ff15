// What parsing costs under validate+compile: every profile of a directory
// parsed by yaml-cpp into a handler that keeps nothing, and read into the
// loader's tree by parseYaml() (the simple reader, yaml-cpp for what it
// declines), each on one thread and on every core (as the loader parses).
// Prints two lines; asserts nothing.
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "policy/yaml_simple.h"
#include "policy/yaml_tree.h"

namespace {

struct Discard : YAML::EventHandler {
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

// Best of `runs`: the floor, not the typical case.
template <typename Parse>
double bestMs(const std::vector<std::string>& texts, unsigned threads, int runs, Parse parse) {
  double best = 1e18;
  for (int r = 0; r < runs; ++r) {
    auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> workers;
    for (unsigned t = 0; t < threads; ++t) {
      workers.emplace_back([&texts, &parse, t, threads] {
        for (size_t i = t; i < texts.size(); i += threads) parse(texts[i]);
      });
    }
    for (std::thread& w : workers) w.join();
    best = std::min(
        best, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                  .count());
  }
  return best;
}

void yamlCppAlone(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  Discard handler;
  while (parser.HandleNextDocument(handler)) {
  }
}

void intoTree(const std::string& text) {
  ringfence::policy::Diagnostics diags;
  ringfence::policy::parseYaml(text, "bench.yaml", diags);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: bench_yaml PROFILES_DIR RUNS\n";
    return 2;
  }
  std::vector<std::string> texts;
  size_t bytes = 0;
  for (const auto& entry : std::filesystem::directory_iterator(argv[1])) {
    std::ifstream in(entry.path());
    std::ostringstream text;
    text << in.rdbuf();
    texts.push_back(text.str());
    bytes += texts.back().size();
  }
  int runs = std::max(1, std::stoi(argv[2]));
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  std::printf(
      "yaml-cpp alone, %zu profiles (%zu bytes): %.1f ms on one thread, %.1f ms on %u threads\n",
      texts.size(), bytes, bestMs(texts, 1, runs, yamlCppAlone),
      bestMs(texts, cores, runs, yamlCppAlone), cores);
  size_t declined = 0;
  for (const std::string& text : texts) {
    if (!ringfence::policy::parseSimpleYaml(text, {})) ++declined;
  }
  std::printf(
      "the loader's tree (simple reader, yaml-cpp for the %zu it declines): %.1f ms on one "
      "thread, %.1f ms on %u threads\n",
      declined, bestMs(texts, 1, runs, intoTree), bestMs(texts, cores, runs, intoTree), cores);
  return 0;
}
