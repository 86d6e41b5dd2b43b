#include "common/ids.h"

#include <openssl/rand.h>

#include <cstdint>
#include <iterator>
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
// Ids only need to be unique and unguessable enough for tracing (as in the OpenTelemetry SDKs), not
// cryptographic: a per-thread generator seeded once from the system's CSPRNG costs a few ns per id,
// where RAND_bytes takes a lock and a getpid() fork check each time.
std::mt19937_64& generator() {
  thread_local std::mt19937_64 gen = [] {
    std::uint32_t seed[8] = {};
    if (RAND_bytes(reinterpret_cast<unsigned char*>(seed), sizeof seed) != 1) {
      std::random_device rd;
      for (auto& s : seed) s = rd();
    }
    std::seed_seq seq(std::begin(seed), std::end(seed));
    return std::mt19937_64(seq);
  }();
  return gen;
}

std::string random_hex(std::size_t bytes) {
  unsigned char buf[16] = {};
  auto& gen = generator();
  for (;;) {
    for (std::size_t i = 0; i < bytes; i += 8) {
      const std::uint64_t r = gen();
      for (std::size_t j = 0; j < 8 && i + j < bytes; ++j) buf[i + j] = static_cast<unsigned char>(r >> (8 * j));
    }
    for (std::size_t i = 0; i < bytes; ++i)
      if (buf[i]) return to_hex(buf, bytes);
  }
}
}  // namespace

std::string new_trace_id() { return random_hex(16); }
std::string new_span_id() { return random_hex(8); }

}  // namespace llmtap
