#pragma once
// Wall-clock timestamps as Unix nanoseconds: spans are wall-clock times observed on the wire,
// and one integer type keeps every layer (capture, parsers, trace, export) free of chrono casts.
#include <chrono>
#include <cstdint>

namespace llmtap {

using UnixNanos = std::int64_t;

inline UnixNanos now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace llmtap
