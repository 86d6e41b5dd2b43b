#pragma once
// Tests: holds AsyncTap's worker inside a callback (a decoder's data(), a sink's call) while the
// test fills the queue, then lets it go. Deterministic: no sleeps.
#include <condition_variable>
#include <mutex>

namespace llmtap {

struct HoldGate {
  std::mutex mu;
  std::condition_variable cv;
  bool hold = false;     // the worker waits in the callback while true
  bool holding = false;  // the worker is waiting there

  // On the worker, with LOCK holding mu: waits while hold is set.
  void wait_while_held(std::unique_lock<std::mutex>& lock) {
    holding = true;
    cv.notify_all();
    cv.wait(lock, [&] { return !hold; });
    holding = false;
  }
  void wait_holding() {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return holding; });
  }
  void release() {
    std::lock_guard<std::mutex> lock(mu);
    hold = false;
    cv.notify_all();
  }
};

}  // namespace llmtap
