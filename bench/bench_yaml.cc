// The floor that yaml-cpp sets under validate+compile: every profile of a
// directory parsed into a handler that keeps nothing, on one thread and on
// every core (as the loader parses). Prints one line; asserts nothing.
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
double parseAllMs(const std::vector<std::string>& texts, unsigned threads, int runs) {
  double best = 1e18;
  for (int r = 0; r < runs; ++r) {
    auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> workers;
    for (unsigned t = 0; t < threads; ++t) {
      workers.emplace_back([&texts, t, threads] {
        for (size_t i = t; i < texts.size(); i += threads) {
          std::istringstream in(texts[i]);
          YAML::Parser parser(in);
          Discard handler;
          while (parser.HandleNextDocument(handler)) {
          }
        }
      });
    }
    for (std::thread& w : workers) w.join();
    best = std::min(
        best, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                  .count());
  }
  return best;
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
      texts.size(), bytes, parseAllMs(texts, 1, runs), parseAllMs(texts, cores, runs), cores);
  return 0;
}
