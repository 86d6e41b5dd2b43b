// libFuzzer target: a request body read by the simdjson fast path and the nlohmann reference path
// (parsers/fast_request.h) must give the same ModelCall, for Chat Completions, Responses, Anthropic Messages and Gemini. An input
// "<request body>\n====\n<response body>" (the per-API targets' corpora) uses its request part.
#include <cstdio>
#include <string_view>

#include "parsers/api_parser.h"
#include "parsers/fast_request.h"
#include "parsers/model_call_diff.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace llmtap;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  if (auto sep = in.find("\n====\n"); sep != std::string_view::npos) in = in.substr(0, sep);
  const std::string body(in);
  for (ApiShape shape :
       {ApiShape::kChatCompletions, ApiShape::kResponses, ApiShape::kAnthropicMessages, ApiShape::kGemini}) {
    ModelCall fast, reference;
    std::string a = body, b = body;
    try {
      parse_request_body(a, *make_api_parser(shape), fast, RequestParsePath::kAuto);
      parse_request_body(b, *make_api_parser(shape), reference, RequestParsePath::kReference);
    } catch (...) {
      return 0;  // ExchangeParser contains exceptions (allocation); equality is what is checked here
    }
    std::string diff = testing::model_call_diff(fast, reference);
    if (!diff.empty()) {
      std::fprintf(stderr, "fast and reference paths differ: %s\n", diff.c_str());
      __builtin_trap();
    }
  }
  return 0;
}
