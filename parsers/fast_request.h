#pragma once
// The one place that chooses how JSON is parsed: request bodies, non-streamed response bodies and
// stream units (SSE event data, JSON-array/NDJSON elements). simdjson (fast, strict) when the API has
// a fast path and the text is well-formed JSON within the depth the reference path keeps whole;
// otherwise nlohmann through json_fields::parse (lenient about ill-formed UTF-8, U+FFFD). Both give
// the same ModelCall: the mappings are shared templates (parsers/view_api_parser.h).
#include <string>
#include <string_view>

#include "common/model_call.h"
#include "parsers/api_parser.h"

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

}  // namespace llmtap
