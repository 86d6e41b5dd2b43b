#pragma once
// A rolling window as a ring of kSlots slots, each window/kSlots long: values go into the slot of
// their time, and slots older than the window are cleared as time moves on. Memory is fixed; the
// window's edge is exact to one slot (1/12 of the window).
#include <array>
#include <cstdint>

#include "common/clock.h"

namespace llmtap::alerts {

template <class Slot>
class SlidingWindow {
 public:
  static constexpr int kSlots = 12;
  explicit SlidingWindow(UnixNanos window) : slot_ns_(window / kSlots > 0 ? window / kSlots : 1) {}

  // The slot for time AT (after clearing what fell out of the window). A time older than the window
  // (a late event) lands in the oldest slot still inside it.
  Slot& at(UnixNanos at) {
    advance(at);
    std::int64_t index = at / slot_ns_;
    if (index < head_ - (kSlots - 1)) index = head_ - (kSlots - 1);
    if (index > head_) index = head_;
    return slots_[static_cast<std::size_t>(index % kSlots)];
  }
  // Clears the slots that are out of the window at NOW.
  void advance(UnixNanos now) {
    const std::int64_t index = now / slot_ns_;
    if (index <= head_) return;
    const std::int64_t clear = std::min<std::int64_t>(index - head_, kSlots);
    for (std::int64_t i = 1; i <= clear; ++i) slots_[static_cast<std::size_t>((head_ + i) % kSlots)] = Slot{};
    head_ = index;
  }
  template <class F>
  void for_each(F&& f) const {
    for (const auto& s : slots_) f(s);
  }

 private:
  UnixNanos slot_ns_;
  std::int64_t head_ = 0;  // index of the newest slot (time / slot_ns_)
  std::array<Slot, kSlots> slots_{};
};

}  // namespace llmtap::alerts
