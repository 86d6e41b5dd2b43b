#include "parsers/fast_request.h"

#include "parsers/json_fields.h"
#include "parsers/simd_json_view.h"

namespace llmtap {
static_assert(kJsonPadding == simdjson::SIMDJSON_PADDING);
namespace {

// Well below json_fields' 128 (past which nlohmann drops nested values): deeper bodies take the
// reference path, so the two never disagree about what a deep value holds.
constexpr std::size_t kFastMaxDepth = 64;

// The DOM parser holds about 14 bytes per byte of its largest document (tape, structural indexes,
// strings). Up to this document size the buffers are kept for the next parse; a larger body gets
// them for its own parse only.
constexpr std::size_t kRetainedCapacity = 4u << 20;

simdjson::dom::parser fresh_parser() {
  simdjson::dom::parser p;
  // On failure the first parse allocates (and reports its own error).
  if (p.allocate(64 * 1024, kFastMaxDepth) != simdjson::SUCCESS) return simdjson::dom::parser();
  return p;
}

simdjson::dom::parser& thread_parser() {
  // One per thread, its buffers reused, so bodies do not pay for fresh allocations each time.
  thread_local simdjson::dom::parser parser = fresh_parser();
  return parser;
}

// Called once the DOM is no longer read: gives back the buffers of a body past kRetainedCapacity.
void release_large_buffers() {
  simdjson::dom::parser& p = thread_parser();
  if (p.capacity() > kRetainedCapacity) p = fresh_parser();
}

// Parses `text` into the thread's DOM. Any error (ill-formed UTF-8, syntax, depth, numbers simdjson
// does not represent) leaves the text to the reference path, which decides what it means.
bool parse_fast(std::string& text, simdjson::dom::element& root) {
  if (text.capacity() < text.size() + simdjson::SIMDJSON_PADDING) {
    // Small units (stream events) are copied to a reused padded buffer rather than reallocated.
    thread_local std::string padded;
    if (text.size() <= 64 * 1024) {
      padded.reserve(text.size() + simdjson::SIMDJSON_PADDING);
      padded.assign(text);
      return thread_parser().parse(padded.data(), padded.size(), false).get(root) == simdjson::SUCCESS;
    }
    text.reserve(text.size() + simdjson::SIMDJSON_PADDING);
  }
  return thread_parser().parse(text.data(), text.size(), false).get(root) == simdjson::SUCCESS;
}

}  // namespace

bool read_request_fast(std::string& body, ApiParser& api, ModelCall& call) {
  simdjson::dom::element root;
  if (!api.has_fast_path() || !parse_fast(body, root)) return false;
  json_view::SimdView view(root);
  // The reference ignores non-objects too.
  const bool read = !view.is_object() || api.parse_request_fast(view, call);
  release_large_buffers();
  return read;
}

RequestParsedBy parse_request_body(std::string& body, ApiParser& api, ModelCall& call, JsonParsePath path) {
  if (path == JsonParsePath::kAuto && read_request_fast(body, api, call)) return RequestParsedBy::kFast;
  json_fields::json parsed = json_fields::parse(body);
  if (parsed.is_object()) api.parse_request(parsed, call);
  return RequestParsedBy::kReference;
}

bool read_response_body_fast(std::string& body, ApiParser& api, ModelCall& call) {
  simdjson::dom::element root;
  if (!api.has_fast_path() || !parse_fast(body, root)) return false;
  json_view::SimdView view(root);
  const bool read = view.is_object() && !json_view::looks_like_error_body(view) && api.on_json_body_fast(view, call);
  release_large_buffers();
  return read;
}

StreamUnitResult read_stream_unit(std::string_view event, std::string& data, UnixNanos at, ApiParser& api,
                                  ModelCall& call, JsonParsePath path) {
  if (path == JsonParsePath::kAuto && api.has_fast_path()) {
    simdjson::dom::element root;
    if (parse_fast(data, root)) {
      std::optional<bool> content = api.on_stream_event_fast(event, json_view::SimdView(root), at, call);
      release_large_buffers();
      if (content) return *content ? StreamUnitResult::kContent : StreamUnitResult::kNoContent;
    }
  }
  json_fields::json j = json_fields::parse(data);
  if (j.is_discarded()) return StreamUnitResult::kInvalidJson;
  return api.on_stream_event(event, j, at, call) ? StreamUnitResult::kContent : StreamUnitResult::kNoContent;
}

}  // namespace llmtap
