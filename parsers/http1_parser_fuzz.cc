// libFuzzer target: HTTP/1.1 framing through ConnectionStitcher. Input "<client bytes>\n====\n<server
// bytes>"; both directions are fed in input-derived chunks, with a gap now and then.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "parsers/connection_stitcher.h"

namespace {
struct NullSink : llmtap::ModelCallSink {
  std::size_t n = 0;
  void on_model_call(llmtap::ModelCall) override { ++n; }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string_view req = in, resp;
  if (auto sep = in.find("\n====\n"); sep != std::string_view::npos) {
    req = in.substr(0, sep);
    resp = in.substr(sep + 6);
  }
  std::size_t piece = 1 + (size * 40503u) % 29;
  NullSink sink;
  llmtap::ParserOptions opts;
  opts.body_cap = 1 << 16;
  llmtap::ConnectionStitcher st(llmtap::ConnectionInfo{"api.openai.com", 443, true, "proxy", 0}, 1, opts, sink);
  std::size_t i = 0, j = 0;
  while (i < req.size() || j < resp.size()) {
    if (i < req.size()) {
      st.data(llmtap::Direction::kClientToServer, req.substr(i, piece), 1);
      i += piece;
    }
    if (j < resp.size()) {
      st.data(llmtap::Direction::kServerToClient, resp.substr(j, piece), 2);
      j += piece;
    }
    if (size % 11 == 0 && i == piece * 3) st.gap(llmtap::Direction::kServerToClient, 3);
  }
  st.close(4);
  return 0;
}
