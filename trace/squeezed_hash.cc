#include "trace/squeezed_hash.h"

#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace llmtap::trace {

bool is_squeezed_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

SqueezedHash::SqueezedHash() { XXH3_64bits_reset(&state_); }

void SqueezedHash::add(std::string_view bytes) { XXH3_64bits_update(&state_, bytes.data(), bytes.size()); }

void SqueezedHash::add_u64(std::uint64_t v) { XXH3_64bits_update(&state_, &v, sizeof v); }

std::uint64_t SqueezedHash::value() const { return XXH3_64bits_digest(&state_); }

namespace {

constexpr std::size_t kBlock = 16;
constexpr std::size_t kGather = 512;  // bytes gathered before they are hashed

#if defined(__SSE2__)
// Bit i set: byte i of the 16 at P is whitespace.
unsigned space_mask(const char* p) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i ws = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(' ')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\n'))),
                                  _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\r')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\t'))));
  return static_cast<unsigned>(_mm_movemask_epi8(ws));
}
#else
unsigned space_mask(const char* p) {
  unsigned m = 0;
  for (std::size_t i = 0; i < kBlock; ++i) m |= static_cast<unsigned>(is_squeezed_space(p[i])) << i;
  return m;
}
#endif

}  // namespace

std::size_t SqueezedHash::add_squeezed(std::string_view text) {
  // OUT has room for a whole block past kGather: a block's non-space runs are copied 16 bytes at a
  // time (the bytes past a run's end are overwritten by the next run or never hashed).
  char out[kGather + 2 * kBlock];
  std::size_t n = 0, total = 0;
  const char* p = text.data();
  const char* const end = p + text.size();
  auto flush = [&] {
    XXH3_64bits_update(&state_, out, n);
    total += n;
    n = 0;
  };
  for (; end - p >= static_cast<std::ptrdiff_t>(kBlock); p += kBlock) {
    unsigned spaces = space_mask(p);
    if (spaces == 0) {
      std::memcpy(out + n, p, kBlock);
      n += kBlock;
    } else {
      // The runs between spaces: each starts at the lowest clear bit and ends at the next set bit.
      char block[2 * kBlock];  // the block, then room to copy 16 bytes from any place in it
      std::memcpy(block, p, kBlock);
      unsigned keep = ~spaces & 0xffffu;
      while (keep != 0) {
        const unsigned start = static_cast<unsigned>(__builtin_ctz(keep));
        const unsigned after = spaces >> start;  // spaces from START on
        const unsigned len = after == 0 ? kBlock - start : static_cast<unsigned>(__builtin_ctz(after));
        std::memcpy(out + n, block + start, kBlock);  // only LEN bytes count
        n += len;
        keep &= ~((1u << (start + len)) - 1u);
      }
    }
    if (n >= kGather) flush();
  }
  for (; p < end; ++p) {
    out[n] = *p;
    n += !is_squeezed_space(*p);
  }
  flush();
  return total;
}

}  // namespace llmtap::trace
