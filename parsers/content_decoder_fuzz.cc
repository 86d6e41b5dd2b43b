// libFuzzer target: every content decoder on arbitrary bytes, bounded output.
#include <cstddef>
#include <cstdint>
#include <string>

#include "parsers/content_decoder.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static const char* kEncodings[] = {"gzip", "deflate", "br", "zstd", "gzip, br", "identity"};
  const char* enc = kEncodings[data[0] % 6];
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  llmtap::ContentDecoder d(enc);
  std::string out;
  std::size_t piece = 1 + data[0] % 7;
  for (std::size_t i = 0; i < in.size(); i += piece) d.feed(in.substr(i, piece), out, (1u << 20) - out.size());
  d.finish();
  if (out.size() > (1u << 20)) __builtin_trap();
  return 0;
}
