// parallelFor (policy/parallel.h): every item once, and an exception on a
// worker thread reaches the caller instead of ending the process.
#include "policy/parallel.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace ringfence::policy {
namespace {

TEST(ParallelFor, CallsEveryItemOnce) {
  std::vector<std::atomic<int>> calls(5000);
  parallelFor(calls.size(), 16, 8, [&](size_t i) { ++calls[i]; });
  for (const auto& c : calls) EXPECT_EQ(c.load(), 1);
}

TEST(ParallelFor, AnExceptionOnAnyThreadIsRethrownToTheCaller) {
  for (size_t failing : {size_t{0}, size_t{4999}}) {
    EXPECT_THROW(parallelFor(5000, 16, 8,
                             [&](size_t i) {
                               if (i == failing) throw std::runtime_error("item failed");
                             }),
                 std::runtime_error);
  }
}

}  // namespace
}  // namespace ringfence::policy
