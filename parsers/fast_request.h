#pragma once
// The one place that chooses how JSON is parsed: request bodies, non-streamed response bodies and
// stream units (SSE event data, JSON-array/NDJSON elements). simdjson (fast, strict) when the API has
// a fast path and the text is well-formed JSON within the depth the reference path keeps whole;
// otherwise nlohmann through json_fields::parse (lenient about ill-formed UTF-8, U+FFFD). Both give
// the same ModelCall: the mappings are shared templates (parsers/view_api_parser.h).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/model_call.h"
#include "parsers/api_parser.h"
#include "parsers/flat_json.h"

namespace llmtap {

enum class JsonParsePath {
  kAuto,       // fast when possible, else the reference
  kReference,  // nlohmann only (differential tests, fuzzing)
};
using RequestParsePath = JsonParsePath;

enum class RequestParsedBy { kFast, kReference };

// Bytes of spare capacity the fast path wants after a text (simdjson::SIMDJSON_PADDING): a body
// buffer reserved with them is parsed in place, without a copy.
inline constexpr std::size_t kJsonPadding = 64;

// Reads the request `body` (may be grown by a few bytes of capacity for simdjson's padding) into
// `call`. Returns which path read it.
RequestParsedBy parse_request_body(std::string& body, ApiParser& api, ModelCall& call,
                                   JsonParsePath path = JsonParsePath::kAuto);

// The fast path of parse_request_body alone: false, touching nothing, when `body` is not
// simdjson-valid (within the fast path's depth) or the API has no fast path.
bool read_request_fast(std::string& body, ApiParser& api, ModelCall& call);

// A non-streamed success body on the fast path, when it is simdjson-valid, an object, not an error
// envelope and the API has a fast path. False, touching nothing: the caller reads it as before.
bool read_response_body_fast(std::string& body, ApiParser& api, ModelCall& call);

enum class StreamUnitResult { kInvalidJson, kNoContent, kContent };

// One stream unit (an SSE event's data, or one element of a JSON-array/NDJSON stream) into `call`
// through ApiParser::on_stream_event (or its fast twin). `data` may be grown for padding.
StreamUnitResult read_stream_unit(std::string_view event, std::string& data, UnixNanos at, ApiParser& api,
                                  ModelCall& call, JsonParsePath path = JsonParsePath::kAuto);
// The same over text that stays where it is; `padded`: 64 bytes past its end are readable
// (SseEvent::text), so simdjson parses it in place, else it is copied to a padded buffer.
StreamUnitResult read_stream_unit(std::string_view event, std::string_view data, bool padded, UnixNanos at,
                                  ApiParser& api, ModelCall& call, JsonParsePath path = JsonParsePath::kAuto);

// A unit that json_view::FlatJson read (`doc` holds `data`, parsed) into `call`, as read_stream_unit
// would read `data`: the mapping is the same template over another view of the same values.
StreamUnitResult read_flat_unit(std::string_view event, const json_view::FlatJson& doc, std::string_view data,
                                UnixNanos at, ApiParser& api, ModelCall& call);

// Stream units that arrived together (one chunk's SSE events), read through one simdjson
// parse_many: one stage 1 over all of them instead of one per event (the per-parse cost is most of a
// small event's). Exactly as read_stream_unit reads each in turn: every document must be the whole of
// its unit (it starts at the unit's first byte and ends at its last); from the first unit that is not
// (or when the batch's stage 1 fails, e.g. ill-formed UTF-8 anywhere in it) each unit is read alone.
// A unit read from the batch's DOM was validated as its own parse would have: the string state
// at its first byte is outside a string, since the units before it parsed whole.
class StreamUnitBatch {
 public:
  // Bytes a unit may have to wait in the batch; a larger one is read alone, where it lies.
  static constexpr std::size_t kMaxUnit = 4096;
  // Bytes of units a batch holds before it is read.
  static constexpr std::size_t kMaxBatch = 64 * 1024;
  // Capacity a batch keeps between reads (one per open stream): a 16 KiB read's events.
  static constexpr std::size_t kKeptBytes = 32 * 1024;

  // True when `data` may wait in a batch: an object (starts with '{', ends with '}') of at most
  // kMaxUnit bytes. The caller reads any other unit alone, after reading the batch.
  static bool batchable(std::string_view data) {
    return data.size() >= 2 && data.size() <= kMaxUnit && data.front() == '{' && data.back() == '}';
  }
  // Whether `data` fits in the batch with what it holds.
  bool fits(std::string_view data) const { return text_.size() + data.size() + 1 <= kMaxBatch; }
  // Copies one unit into the batch (event and data may be reused by the caller afterwards).
  void add(std::string_view event, std::string_view data);
  bool empty() const { return units_.empty(); }

  // What the units read gave, for the caller's bookkeeping (every unit of a batch arrived at `at`).
  struct Results {
    bool invalid_json = false;  // some unit was kInvalidJson
    bool content = false;       // some unit was kContent
  };
  // Reads every unit in order into `call` (as read_stream_unit(event, data, at, api, call) each), then
  // empties the batch.
  Results read(UnixNanos at, ApiParser& api, ModelCall& call);

 private:
  struct Unit {
    std::uint32_t text_at, text_size, event_at, event_size;
  };
  std::string text_;    // the units' data, each followed by '\n'
  std::string events_;  // their event names, one after another
  std::vector<Unit> units_;
};

}  // namespace llmtap
