// Fuzzes H2Stitcher with arbitrary bytes in both directions (after a valid client preface, so the
// frame and HPACK paths are reached). The first input byte picks how the rest is split.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "collector/h2_stitcher.h"

namespace {
struct NullSink : llmtap::ModelCallSink {
  void on_model_call(llmtap::ModelCall) override {}
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  NullSink sink;
  llmtap::ConnectionInfo info;
  info.host = "api.openai.com";
  llmtap::H2Stitcher stitcher(info, 1, llmtap::ParserOptions{}, sink);
  stitcher.data(llmtap::Direction::kClientToServer, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 0);
  const std::size_t step = 1 + data[0] % 64;
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  int i = 0;
  while (!rest.empty()) {
    const std::size_t n = rest.size() < step ? rest.size() : step;
    // Alternate directions chunk by chunk, so responses can meet requests.
    const auto dir = (i / 3) % 2 ? llmtap::Direction::kServerToClient : llmtap::Direction::kClientToServer;
    ++i;
    stitcher.data(dir, rest.substr(0, n), i);
    rest.remove_prefix(n);
  }
  stitcher.close(i + 1);
  return 0;
}
