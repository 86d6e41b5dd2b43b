// Fuzzes the collector's decoding of shim records (each input is one socket message).
#include <cstddef>
#include <cstdint>

#include "preload/wire_format.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  llmtap::wire::Record rec;
  if (llmtap::wire::decode_record(reinterpret_cast<const char*>(data), size, &rec)) {
    volatile char sink = 0;
    for (std::uint32_t i = 0; i < rec.payload_len; ++i) sink = sink ^ rec.payload[i];  // touch it all
  }
  return 0;
}
