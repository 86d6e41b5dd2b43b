// libFuzzer target: the SSE decoder must give the same events however the input is chunked.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "parsers/sse_decoder.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::size_t piece = 1 + data[0] % 16;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  llmtap::SseDecoder whole, split;
  std::vector<llmtap::SseEvent> a, b;
  whole.feed(in, a);
  whole.finish(a);
  for (std::size_t i = 0; i < in.size(); i += piece) split.feed(in.substr(i, piece), b);
  split.finish(b);
  if (a.size() != b.size()) __builtin_trap();
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].data != b[i].data || a[i].event != b[i].event || a[i].id != b[i].id) __builtin_trap();
  }
  return 0;
}
