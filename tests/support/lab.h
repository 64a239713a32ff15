// Helpers for tests that need root and network namespaces. They only ever
// create namespaces named "rftest-<pid>-<name>" and always delete them; a
// namespace left by a killed run (its pid gone) is removed by the next run.
#pragma once

#include <string>

namespace ringfence::test {

// Call at the start of a lab test: without root, fails under CI=true and
// skips (saying so) elsewhere.
#define RINGFENCE_REQUIRE_ROOT()                                                                \
  do {                                                                                          \
    if (!::ringfence::test::haveRoot()) {                                                       \
      if (::ringfence::test::inCi()) FAIL() << "lab tests need root; CI=true forbids skipping"; \
      GTEST_SKIP() << "lab test skipped: needs root (under CI=true this fails instead)";        \
    }                                                                                           \
  } while (0)

bool haveRoot();
bool inCi();

// Runs a shell command; returns its exit status and puts stdout+stderr in `output`.
int run(const std::string& command, std::string* output = nullptr);
std::string shellQuote(const std::string& s);

class ScopedNetns {
 public:
  explicit ScopedNetns(const std::string& name);
  ~ScopedNetns();
  ScopedNetns(const ScopedNetns&) = delete;
  ScopedNetns& operator=(const ScopedNetns&) = delete;

  const std::string& name() const { return name_; }
  // "ip netns exec NAME " + command
  int exec(const std::string& command, std::string* output = nullptr) const;

 private:
  std::string name_;
};

void removeStaleNamespaces();

}  // namespace ringfence::test

#include <functional>

namespace ringfence::test {

// Runs `fn` in a child process that has joined network namespace `ns`;
// returns fn's result (or -1 if the child could not join or crashed).
int runInNetns(const ScopedNetns& ns, const std::function<int()>& fn);

}  // namespace ringfence::test
