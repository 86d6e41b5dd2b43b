// libFuzzer target: a request read after an earlier one through parse_request_resuming
// (parsers/request_prefix.h) gives the whole parse's ModelCall less the left-out leading messages,
// for Responses and Anthropic Messages. The input is the later body; the earlier one is that body
// with its array's elements after a fuzzer-chosen one cut out (when it has such an array), or the
// input's part before "\n----\n" (so arbitrary pairs are tried too). An input
// "<request body>\n====\n<response body>" (the per-API corpora) uses its request part.
#include <cstdio>
#include <string>
#include <string_view>

#include "parsers/model_call_diff.h"
#include "parsers/request_prefix.h"

namespace {

using namespace llmtap;

ModelCall parse(ApiShape shape, const std::string& body, RequestPrefix& prefix) {
  ModelCall c;
  c.api = "fuzz";
  std::string b = body;
  parse_request_resuming(b, *make_api_parser(shape), c, prefix);
  return c;
}

// The earlier turn: `body` without the array elements after the `pick`-th comma at depth 2 that
// follows the key's '[' (a cheap cut; whatever it gives, the check below holds).
std::string earlier_of(const std::string& body, std::size_t pick) {
  int depth = 0;
  bool in_string = false;
  std::size_t commas = 0, cut = std::string::npos;
  for (std::size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '{' || c == '[') ++depth;
    else if (c == '}' || c == ']') {
      if (depth == 2 && c == ']' && cut != std::string::npos) return body.substr(0, cut) + body.substr(i);
      --depth;
    } else if (c == ',' && depth == 2 && cut == std::string::npos && commas++ == pick) {
      cut = i;
    }
  }
  return body;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  if (auto sep = in.find("\n====\n"); sep != std::string_view::npos) in = in.substr(0, sep);
  std::string earlier, body;
  if (auto sep = in.find("\n----\n"); sep != std::string_view::npos) {
    earlier = std::string(in.substr(0, sep));
    body = std::string(in.substr(sep + 6));
  } else {
    body = std::string(in);
    earlier = earlier_of(body, size % 7);
  }
  for (ApiShape shape : {ApiShape::kResponses, ApiShape::kAnthropicMessages, ApiShape::kChatCompletions}) {
    RequestPrefix prefix, fresh;
    ModelCall first, resumed, whole;
    try {
      first = parse(shape, earlier, prefix);
      resumed = parse(shape, body, prefix);
      whole = parse(shape, body, fresh);
    } catch (...) {
      return 0;  // ExchangeParser contains exceptions (allocation); equality is what is checked here
    }
    const std::size_t k = resumed.input_prefix.elided_messages;
    if (resumed.input_prefix.elided_key != 0) {
      if (resumed.input_prefix.elided_key != first.input_prefix.key || k != first.input.size() ||
          k > whole.input.size() || prefix.key() != fresh.key()) {
        std::fprintf(stderr, "resumed parse names the wrong prefix\n");
        __builtin_trap();
      }
      whole.input.erase(whole.input.begin(), whole.input.begin() + static_cast<std::ptrdiff_t>(k));
      whole.input_prefix.elided_key = resumed.input_prefix.elided_key;
      whole.input_prefix.elided_messages = k;
    }
    const std::string diff = testing::model_call_diff(resumed, whole);
    if (!diff.empty()) {
      std::fprintf(stderr, "resumed and whole parses differ: %s\n", diff.c_str());
      __builtin_trap();
    }
  }
  return 0;
}
