#include "common/ids.h"

#include <openssl/rand.h>

#include <random>

namespace llmtap {

std::string to_hex(const unsigned char* data, std::size_t len) {
  static const char* kDigits = "0123456789abcdef";
  std::string out(len * 2, '0');
  for (std::size_t i = 0; i < len; ++i) {
    out[2 * i] = kDigits[data[i] >> 4];
    out[2 * i + 1] = kDigits[data[i] & 0xf];
  }
  return out;
}

namespace {
std::string random_hex(std::size_t bytes) {
  unsigned char buf[16] = {};
  for (;;) {
    if (RAND_bytes(buf, static_cast<int>(bytes)) != 1) {
      thread_local std::mt19937_64 fallback{std::random_device{}()};
      for (std::size_t i = 0; i < bytes; ++i) buf[i] = static_cast<unsigned char>(fallback());
    }
    for (std::size_t i = 0; i < bytes; ++i)
      if (buf[i]) return to_hex(buf, bytes);
  }
}
}  // namespace

std::string new_trace_id() { return random_hex(16); }
std::string new_span_id() { return random_hex(8); }

}  // namespace llmtap
