// Eventually: for tests, polls a condition that another thread makes true.
#ifndef CHRONOCONF_COMMON_EVENTUALLY_H_
#define CHRONOCONF_COMMON_EVENTUALLY_H_

#include <chrono>
#include <thread>

namespace chronoconf {

// Waits up to `timeout` for `done()`, polling every 5 ms; false on timeout.
template <typename F>
bool Eventually(F done, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace chronoconf

#endif  // CHRONOCONF_COMMON_EVENTUALLY_H_
