// Destroys on a thread of its own what the loop no longer needs: freeing the
// policy and the plan a reload replaced (hundreds of thousands of objects at
// 10,000 devices) takes milliseconds that neither the reload nor the
// isolation of a device should wait for. One object at a time; the next
// discard, and the destructor, wait for the one before.
#pragma once

#include <thread>
#include <utility>

namespace ringfence::daemon {

class Reaper {
 public:
  template <typename T>
  void discard(T object) noexcept {
    try {
      if (thread_.joinable()) thread_.join();
      thread_ = std::jthread([held = std::move(object)]() mutable { T gone = std::move(held); });
    } catch (...) {
      // No thread (or no memory for one): the object goes here, with the
      // lambda that held it. The reload it follows is applied either way.
    }
  }

 private:
  std::jthread thread_;
};

}  // namespace ringfence::daemon
