#pragma once
// The one place that chooses how a request body is parsed: simdjson (fast, strict) when the API has
// a fast path and the body is well-formed JSON within the depth the reference path keeps whole;
// otherwise nlohmann through json_fields::parse (lenient about ill-formed UTF-8, U+FFFD). Both give
// the same ModelCall: the mappings are shared templates (parsers/openai_request.h).
#include <string>

#include "common/model_call.h"
#include "parsers/api_parser.h"

namespace llmtap {

enum class RequestParsePath {
  kAuto,       // fast when possible, else the reference
  kReference,  // nlohmann only (differential tests, fuzzing)
};

enum class RequestParsedBy { kFast, kReference };

// Reads the request `body` (may be grown by a few bytes of capacity for simdjson's padding) into
// `call`. Returns which path read it.
RequestParsedBy parse_request_body(std::string& body, ApiParser& api, ModelCall& call,
                                   RequestParsePath path = RequestParsePath::kAuto);

}  // namespace llmtap
