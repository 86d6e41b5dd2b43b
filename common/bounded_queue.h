#pragma once
// A first-in first-out hand-off between producer threads and one consumer thread, bounded in items:
// a producer waits while it is full (back-pressure, never a drop), the consumer waits while it is
// empty. The consumer says when it has handled what it popped, so a producer can wait until
// everything it handed over is done (a flush), not merely taken. close() ends it: pushes are
// refused, pops return what is left, then nothing.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>

namespace llmtap {

template <class T>
class BoundedQueue {
 public:
  // CAPACITY items may wait. A consumer sleeping on an empty queue is woken when WAKE_AT items wait
  // (or by close() and wait_handled()), else it looks again after MAX_DELAY: waking it for every
  // item costs the producer a futex call and both threads a context switch per item.
  explicit BoundedQueue(std::size_t capacity, std::size_t wake_at = 1,
                        std::chrono::milliseconds max_delay = std::chrono::milliseconds(20))
      : capacity_(capacity < 1 ? 1 : capacity),
        wake_at_(wake_at < 1 ? 1 : wake_at > capacity_ ? capacity_ : wake_at),
        max_delay_(max_delay) {}
  BoundedQueue(const BoundedQueue&) = delete;
  BoundedQueue& operator=(const BoundedQueue&) = delete;

  // Waits while CAPACITY items wait. False once closed; ITEM is then not moved from.
  bool push(T&& item) {
    std::unique_lock lock(mu_);
    if (items_.size() >= capacity_) {
      ++full_waits_;
      room_.wait(lock, [&] { return items_.size() < capacity_ || closed_; });
    }
    if (closed_) return false;
    items_.push_back(std::move(item));
    ++pushed_;
    const bool wake = items_.size() >= wake_at_;
    lock.unlock();
    if (wake) ready_.notify_one();
    return true;
  }

  // Waits for an item; nullopt once closed and empty. Each item popped is handled() after.
  std::optional<T> pop() {
    std::unique_lock lock(mu_);
    auto ready = [&] { return !items_.empty() || closed_; };
    if (wake_at_ == 1) ready_.wait(lock, ready);
    else
      while (!ready()) ready_.wait_for(lock, max_delay_);
    if (items_.empty()) return std::nullopt;
    std::optional<T> item(std::move(items_.front()));
    items_.pop_front();
    lock.unlock();
    room_.notify_one();
    return item;
  }

  // The consumer is done with an item pop() gave it.
  void handled() {
    {
      std::lock_guard lock(mu_);
      ++handled_;
    }
    done_.notify_all();
  }

  // Returns once every item pushed before the call has been handled (the consumer keeps popping
  // after close() until the queue is empty, so this also holds across a close).
  void wait_handled() {
    std::unique_lock lock(mu_);
    const std::uint64_t target = pushed_;
    if (handled_ < target) ready_.notify_one();  // fewer than wake_at may wait: no need to wait max_delay
    done_.wait(lock, [&] { return handled_ >= target; });
  }

  void close() {
    {
      std::lock_guard lock(mu_);
      closed_ = true;
    }
    ready_.notify_all();
    room_.notify_all();
    done_.notify_all();
  }

  std::size_t size() const {
    std::lock_guard lock(mu_);
    return items_.size();
  }
  // Pushes that found the queue full and waited (how often the consumer held the producers up).
  std::uint64_t full_waits() const {
    std::lock_guard lock(mu_);
    return full_waits_;
  }

 private:
  const std::size_t capacity_;
  const std::size_t wake_at_;
  const std::chrono::milliseconds max_delay_;
  mutable std::mutex mu_;
  std::condition_variable ready_, room_, done_;
  std::deque<T> items_;
  std::uint64_t pushed_ = 0, handled_ = 0, full_waits_ = 0;
  bool closed_ = false;
};

}  // namespace llmtap
