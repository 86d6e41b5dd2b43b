#include "parsers/fast_request.h"

#include "parsers/json_fields.h"
#include "parsers/simd_json_view.h"

namespace llmtap {
namespace {

// Well below json_fields' 128 (past which nlohmann drops nested values): deeper bodies take the
// reference path, so the two never disagree about what a deep value holds.
constexpr std::size_t kFastMaxDepth = 64;

simdjson::dom::parser& thread_parser() {
  // One per thread: its buffers grow to the largest body seen (bounded by ParserOptions::body_cap)
  // and are reused, so large bodies do not pay for fresh allocations each time.
  thread_local simdjson::dom::parser parser = [] {
    simdjson::dom::parser p;
    // On failure the first parse allocates (and reports its own error).
    if (p.allocate(64 * 1024, kFastMaxDepth) != simdjson::SUCCESS) return simdjson::dom::parser();
    return p;
  }();
  return parser;
}

}  // namespace

RequestParsedBy parse_request_body(std::string& body, ApiParser& api, ModelCall& call, RequestParsePath path) {
  if (path == RequestParsePath::kAuto) {
    body.reserve(body.size() + simdjson::SIMDJSON_PADDING);
    simdjson::dom::parser& parser = thread_parser();
    simdjson::dom::element root;
    // Any error (ill-formed UTF-8, syntax, depth, numbers simdjson does not represent) leaves the
    // body to the reference path, which decides what it means.
    if (parser.parse(body.data(), body.size(), false).get(root) == simdjson::SUCCESS) {
      json_view::SimdView view(root);
      if (!view.is_object()) return RequestParsedBy::kFast;  // the reference ignores non-objects too
      if (api.parse_request_fast(view, call)) return RequestParsedBy::kFast;
    }
  }
  json_fields::json parsed = json_fields::parse(body);
  if (parsed.is_object()) api.parse_request(parsed, call);
  return RequestParsedBy::kReference;
}

}  // namespace llmtap
