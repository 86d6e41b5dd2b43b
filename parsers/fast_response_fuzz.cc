// libFuzzer target: a whole exchange read with the simdjson fast path and with nlohmann only
// (ParserOptions::reference_json_only) must give the same ModelCall, for Chat Completions,
// Responses, Anthropic Messages and Gemini. Input "<request body>\n====\n<response body>" (the
// per-API targets' corpora); the response goes as SSE when it looks like one, else as JSON (for
// Gemini on its JSON-array stream path when the input's length is odd), cut into pieces whose size
// derives from the input, and whole.
#include <cstdio>
#include <string>
#include <string_view>

#include "parsers/exchange_parser.h"
#include "parsers/model_call_diff.h"

namespace {

llmtap::ModelCall run(const char* host, const std::string& target, std::string_view req, std::string_view resp,
                      bool sse, std::size_t piece, bool reference) {
  using namespace llmtap;
  ParserOptions opts;
  opts.body_cap = 1 << 16;
  opts.reference_json_only = reference;
  ExchangeParser p(ConnectionInfo{host, 443, true, "proxy", 0}, 1, opts);
  p.request_head(RequestHead{"POST", target, {{"Host", host}, {"Content-Type", "application/json"}}}, 1);
  for (std::size_t i = 0; i < req.size(); i += piece) p.request_body(req.substr(i, piece), 2);
  p.request_end(3);
  p.response_head(ResponseHead{200, {{"Content-Type", sse ? "text/event-stream" : "application/json"}}}, 4);
  UnixNanos ts = 5;
  for (std::size_t i = 0; i < resp.size(); i += piece) p.response_body(resp.substr(i, piece), ts++);
  return p.finish(ts, true);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string_view req = in, resp = in;
  if (auto sep = in.find("\n====\n"); sep != std::string_view::npos) {
    req = in.substr(0, sep);
    resp = in.substr(sep + 6);
  }
  const bool sse = resp.substr(0, 5) == "data:" || resp.substr(0, 6) == "event:" || resp.substr(0, 1) == ":";
  const std::size_t piece = 1 + (size * 2654435761u) % 61;
  struct Target {
    const char* host;
    std::string path;
  } targets[] = {{"api.openai.com", "/v1/chat/completions"},
                 {"api.openai.com", "/v1/responses"},
                 {"api.anthropic.com", "/v1/messages"},
                 {"generativelanguage.googleapis.com",
                  size % 2 ? "/v1beta/models/g:streamGenerateContent" : "/v1beta/models/g:generateContent"}};
  for (const auto& t : targets) {
    // In pieces, and whole (a stream's events then arrive together and are read as one batch).
    for (std::size_t p : {piece, size + 1}) {
      llmtap::ModelCall fast = run(t.host, t.path, req, resp, sse, p, false);
      llmtap::ModelCall reference = run(t.host, t.path, req, resp, sse, p, true);
      std::string diff = llmtap::testing::model_call_diff(fast, reference);
      if (!diff.empty()) {
        std::fprintf(stderr, "fast and reference paths differ (%s, pieces of %zu): %s\n", t.path.c_str(), p, diff.c_str());
        __builtin_trap();
      }
    }
  }
  return 0;
}
