#pragma once
// Base-128 varints (7 bits a byte, low first) and zigzag-mapped signed ones, for the compact
// encodings of open traces (OpenSpan's attribute blocks, SpanTree's single-call form): small
// numbers (token counts, picodollars, durations) take 1-5 bytes instead of 8.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace llmtap::trace {

inline constexpr std::size_t kMaxVarintBytes = 10;

// Writes V at OUT (at most kMaxVarintBytes); returns the end.
inline char* put_varint(char* out, std::uint64_t v) {
  while (v >= 0x80) {
    *out++ = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  *out++ = static_cast<char>(v);
  return out;
}

inline std::uint64_t zigzag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}

inline void put_varint(std::string& out, std::uint64_t v) {
  char b[kMaxVarintBytes];
  out.append(b, put_varint(b, v));
}

inline void put_zigzag(std::string& out, std::int64_t v) { put_varint(out, zigzag(v)); }

// Reads what put_varint/put_zigzag wrote at AT (moved past it). The bytes are this process's own
// encoding, always well formed: no bounds are checked.
inline std::uint64_t read_varint(std::string_view b, std::size_t& at) {
  std::uint64_t v = 0;
  for (int shift = 0;; shift += 7) {
    const auto c = static_cast<unsigned char>(b[at++]);
    v |= static_cast<std::uint64_t>(c & 0x7f) << shift;
    if (c < 0x80) return v;
  }
}

inline std::int64_t read_zigzag(std::string_view b, std::size_t& at) {
  const std::uint64_t z = read_varint(b, at);
  return static_cast<std::int64_t>((z >> 1) ^ (~(z & 1) + 1));
}

}  // namespace llmtap::trace
