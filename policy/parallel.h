// Work spread over the cores: loading and compiling a large policy are
// thousands of independent items (files, profiles, devices).
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace ringfence::policy {

// Calls fn(i) for every i in [0, n), on at most `maxThreads` threads (this
// one included) with at least `perThread` items each. An exception thrown by
// any call stops the others' remaining items and is rethrown here, once
// every thread has stopped.
template <typename F>
void parallelFor(size_t n, size_t perThread, size_t maxThreads, F fn) {
  std::atomic<size_t> next{0};
  std::mutex failedMutex;
  std::exception_ptr failed;
  auto work = [&] {
    try {
      for (size_t i = next++; i < n; i = next++) fn(i);
    } catch (...) {
      std::lock_guard lock(failedMutex);
      if (!failed) failed = std::current_exception();
      next = n;
    }
  };
  size_t threads = std::min<size_t>(
      {std::max(1u, std::thread::hardware_concurrency()), maxThreads, n / perThread + 1});
  {
    std::vector<std::jthread> pool;
    for (size_t t = 1; t < threads; ++t) pool.emplace_back(work);
    work();
  }
  if (failed) std::rethrow_exception(failed);
}

}  // namespace ringfence::policy
