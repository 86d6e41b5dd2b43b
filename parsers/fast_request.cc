#include "parsers/fast_request.h"

#include "parsers/json_fields.h"
#include "parsers/simd_json_view.h"
#include "parsers/sse_decoder.h"

namespace llmtap {
static_assert(kJsonPadding == simdjson::SIMDJSON_PADDING);
namespace {

// Well below json_fields' 128 (past which nlohmann drops nested values): deeper bodies take the
// reference path, so the two never disagree about what a deep value holds.
constexpr std::size_t kFastMaxDepth = 64;

// The DOM parser's buffers are sized by the largest document so far, about 14 bytes per byte (tape 8,
// structural indexes 4, strings 5/3), of which a parse writes only what the document needs: its
// strings, 4 bytes per structural character for the index and about 8 per structural for the tape
// (a number is two tape words and one structural, its comma or colon none). The buffers are kept for the next parse (a large body then parses into pages already
// mapped: 8 MiB of fresh pages cost ~3 ms here, an 8 MiB body's whole budget at 1 GB/s) as long as
// they hold documents of up to kRetainedCapacity bytes and the last parse wrote at most
// kRetainedTouched bytes of them, so what a thread's parser keeps resident stays bounded.
constexpr std::size_t kRetainedCapacity = 16u << 20;
constexpr std::size_t kRetainedTouched = 16u << 20;

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

// Called once the DOM of a `bytes`-long document is no longer read: gives back the buffers past the
// bounds above.
void release_large_buffers(std::size_t bytes) {
  simdjson::dom::parser& p = thread_parser();
  if (p.capacity() <= 64 * 1024) return;
  const std::size_t structurals = p.implementation ? p.implementation->n_structural_indexes : 0;
  if (p.capacity() > kRetainedCapacity || bytes + 12 * structurals > kRetainedTouched) p = fresh_parser();
}

// Parses `text` into the thread's DOM. Any error (ill-formed UTF-8, syntax, depth, numbers simdjson
// does not represent) leaves the text to the reference path, which decides what it means. `padded`:
// SIMDJSON_PADDING bytes past the text's end are readable, so it parses where it is.
bool parse_fast(std::string_view text, bool padded, simdjson::dom::element& root) {
  if (!padded) {
    // Small units (stream events) are copied to a reused padded buffer.
    thread_local std::string buffer;
    buffer.reserve(text.size() + simdjson::SIMDJSON_PADDING);
    buffer.assign(text);
    text = buffer;
  }
  return thread_parser().parse(text.data(), text.size(), false).get(root) == simdjson::SUCCESS;
}

bool parse_fast(std::string& text, simdjson::dom::element& root) {
  if (text.capacity() < text.size() + simdjson::SIMDJSON_PADDING && text.size() > 64 * 1024)
    text.reserve(text.size() + simdjson::SIMDJSON_PADDING);  // a large text grows rather than copies
  return parse_fast(text, text.capacity() >= text.size() + simdjson::SIMDJSON_PADDING, root);
}

}  // namespace

bool read_request_fast(std::string& body, ApiParser& api, ModelCall& call) {
  simdjson::dom::element root;
  if (!api.has_fast_path() || !parse_fast(body, root)) return false;
  json_view::SimdView view(root);
  // The reference ignores non-objects too.
  const bool read = !view.is_object() || api.parse_request_fast(view, call);
  release_large_buffers(body.size());
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
  release_large_buffers(body.size());
  return read;
}

StreamUnitResult read_stream_unit(std::string_view event, std::string_view data, bool padded, UnixNanos at,
                                  ApiParser& api, ModelCall& call, JsonParsePath path) {
  static_assert(SseEvent::kPadding >= simdjson::SIMDJSON_PADDING);
  static_assert(json_view::FlatJson::kPadding <= simdjson::SIMDJSON_PADDING);
  if (path == JsonParsePath::kAuto && api.has_fast_path()) {
    // A small unit first through FlatJson (its own document: a batch's units read alone come here).
    thread_local json_view::FlatJson doc;
    if (padded && doc.parse(data)) return read_flat_unit(event, doc, data, at, api, call);
    simdjson::dom::element root;
    if (parse_fast(data, padded, root)) {
      std::optional<bool> content = api.on_stream_event_fast(event, json_view::SimdView(root), at, call);
      release_large_buffers(data.size());
      if (content) return *content ? StreamUnitResult::kContent : StreamUnitResult::kNoContent;
    }
  }
  json_fields::json j = json_fields::parse(data);
  if (j.is_discarded()) return StreamUnitResult::kInvalidJson;
  return api.on_stream_event(event, j, at, call) ? StreamUnitResult::kContent : StreamUnitResult::kNoContent;
}

StreamUnitResult read_flat_unit(std::string_view event, const json_view::FlatJson& doc, std::string_view data,
                                UnixNanos at, ApiParser& api, ModelCall& call) {
  std::optional<bool> content = api.on_stream_event_flat(event, json_view::FlatView(doc), at, call);
  if (content) return *content ? StreamUnitResult::kContent : StreamUnitResult::kNoContent;
  return read_stream_unit(event, data, true, at, api, call, JsonParsePath::kReference);
}

void StreamUnitBatch::add(std::string_view event, std::string_view data) {
  units_.push_back(Unit{static_cast<std::uint32_t>(text_.size()), static_cast<std::uint32_t>(data.size()),
                        static_cast<std::uint32_t>(events_.size()), static_cast<std::uint32_t>(event.size())});
  text_.append(data).push_back('\n');
  events_.append(event);
}

StreamUnitBatch::Results StreamUnitBatch::read(UnixNanos at, ApiParser& api, ModelCall& call) {
  Results out;
  auto note = [&out](StreamUnitResult r) {
    if (r == StreamUnitResult::kInvalidJson) out.invalid_json = true;
    if (r == StreamUnitResult::kContent) out.content = true;
  };
  auto event = [this](const Unit& u) { return std::string_view(events_).substr(u.event_at, u.event_size); };
  // Each unit is followed by the rest of the batch and its padding: readable past its end.
  auto text = [this](const Unit& u) { return std::string_view(text_).substr(u.text_at, u.text_size); };
  text_.reserve(text_.size() + simdjson::SIMDJSON_PADDING);
  std::size_t i = 0;
  if (units_.size() > 1 && api.has_fast_path()) {
    // Its own parser: a unit read alone (below, or nested in a mapping) uses the thread's.
    thread_local simdjson::dom::parser parser = [] {
      simdjson::dom::parser p = fresh_parser();
      p.threaded = false;  // one batch of a few KiB: no stage 1 thread
      return p;
    }();
    simdjson::dom::document_stream stream;
    if (parser.parse_many(text_.data(), text_.size(), kMaxBatch).get(stream) == simdjson::SUCCESS) {
      for (auto it = stream.begin(); it != stream.end() && i < units_.size(); ++it, ++i) {
        const Unit& u = units_[i];
        simdjson::dom::element root;
        if ((*it).get(root) != simdjson::SUCCESS || it.current_index() != u.text_at || it.source().size() != u.text_size)
          break;
        std::optional<bool> content = api.on_stream_event_fast(event(u), json_view::SimdView(root), at, call);
        // As read_stream_unit: a unit the fast mapping declines goes to the reference path.
        note(content ? (*content ? StreamUnitResult::kContent : StreamUnitResult::kNoContent)
                     : read_stream_unit(event(u), text(u), true, at, api, call, JsonParsePath::kReference));
      }
    }
  }
  for (; i < units_.size(); ++i) note(read_stream_unit(event(units_[i]), text(units_[i]), true, at, api, call));
  // A batch is empty between reads; an open stream keeps at most kKeptBytes of its buffer.
  if (text_.capacity() > kKeptBytes) std::string().swap(text_);
  text_.clear();
  events_.clear();
  units_.clear();
  return out;
}

StreamUnitResult read_stream_unit(std::string_view event, std::string& data, UnixNanos at, ApiParser& api,
                                  ModelCall& call, JsonParsePath path) {
  if (data.capacity() < data.size() + simdjson::SIMDJSON_PADDING && data.size() > 64 * 1024)
    data.reserve(data.size() + simdjson::SIMDJSON_PADDING);
  return read_stream_unit(event, data, data.capacity() >= data.size() + simdjson::SIMDJSON_PADDING, at, api, call,
                          path);
}

}  // namespace llmtap
