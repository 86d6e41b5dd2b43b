#pragma once
// The bytes a JSON string cannot hold as they are ('"', '\\' and those below 0x20), found 16 at a
// time: FlatJson's string scan and the nlohmann-exact printer (simd_json_dump.cc) share it.
#include <cstdint>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace llmtap::json_view {

struct StringBlock {
  unsigned special = 0;  // bit i: byte i is '"', '\\' or below 0x20
  unsigned high = 0;     // bit i: byte i is 0x80 or above (part of a UTF-8 sequence)
};

// The 16 bytes at p (all readable).
inline StringBlock scan_string_block(const char* p) {
#if defined(__SSE2__)
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i control = _mm_set1_epi8(0x1F);
  // Below 0x20: max(v, 0x1F) == 0x1F (unsigned).
  const __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
                                   _mm_cmpeq_epi8(_mm_max_epu8(v, control), control));
  return {static_cast<unsigned>(_mm_movemask_epi8(hit)), static_cast<unsigned>(_mm_movemask_epi8(v))};
#else
  StringBlock b;
  for (unsigned i = 0; i < 16; ++i) {
    const unsigned char c = static_cast<unsigned char>(p[i]);
    if (c == '"' || c == '\\' || c < 0x20) b.special |= 1u << i;
    if (c >= 0x80) b.high |= 1u << i;
  }
  return b;
#endif
}

inline bool is_string_special(unsigned char c) { return c == '"' || c == '\\' || c < 0x20; }

}  // namespace llmtap::json_view
