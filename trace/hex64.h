#pragma once
// A 64-bit value as 16 lower-case hex digits, as printf's "%016llx" writes it, without printf's
// format parsing (a state key is made for every closed trace's conversation states).
#include <cstdint>
#include <string>

namespace llmtap::trace {

inline void append_hex64(std::string& out, std::uint64_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  char buf[16];
  for (int i = 15; i >= 0; --i, v >>= 4) buf[i] = kDigits[v & 0xf];
  out.append(buf, sizeof buf);
}

inline std::string hex64(std::uint64_t v) {
  std::string out;
  append_hex64(out, v);
  return out;
}

}  // namespace llmtap::trace
