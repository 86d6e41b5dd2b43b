#pragma once
// One implementation per API shape (OpenAI Chat, Responses, Anthropic Messages, Gemini, embeddings,
// Ollama chat). The shared machinery (framing, content decoding, SSE, JSON-array/NDJSON streams,
// errors, timings) lives in ExchangeParser; an ApiParser only maps JSON to the ModelCall.
// Implementations never throw: they read JSON through parsers/json_fields.h.
#include <memory>
#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/model_call.h"

namespace llmtap {

namespace json_view {
class SimdView;
class FlatView;
}

class ApiParser {
 public:
  virtual ~ApiParser() = default;
  // True when the *_fast methods below are implemented (parsers/view_api_parser.h): callers then
  // try simdjson first.
  virtual bool has_fast_path() const { return false; }
  // The request body (only when it parsed as JSON). Sets model, stream, input, tools, ...
  virtual void parse_request(const nlohmann::json& body, ModelCall& call) = 0;
  // The same from a simdjson DOM (the fast path, parsers/fast_request.h), with exactly the same
  // result. Returns false, touching nothing, when this API has no fast path: the caller then parses
  // the body with nlohmann.
  virtual bool parse_request_fast(const json_view::SimdView& /*body*/, ModelCall& /*call*/) { return false; }
  // The request's top-level array of conversation items when each element maps to messages on its
  // own (no state carried between elements), so that a repeated leading run of elements can be
  // skipped (parsers/request_prefix.h); "" when the API has none such.
  virtual std::string_view resumable_array() const { return {}; }
  // A whole non-streamed response body.
  virtual void on_json_body(const nlohmann::json& body, ModelCall& call) = 0;
  // The same from a simdjson DOM; false, touching nothing, when this API has no fast path.
  virtual bool on_json_body_fast(const json_view::SimdView& /*body*/, ModelCall& /*call*/) { return false; }
  // One streamed unit: an SSE event (`event` may be "") or one element of a JSON-array/NDJSON stream
  // (`event` ""), which arrived at `at` (for ToolCall::ready_at). Returns true when it carried model
  // output (for the first-content timing).
  virtual bool on_stream_event(std::string_view event, const nlohmann::json& data, UnixNanos at,
                               ModelCall& call) = 0;
  // The same from a simdjson DOM (what on_stream_event would return); nullopt, touching nothing,
  // when this API has no fast path.
  virtual std::optional<bool> on_stream_event_fast(std::string_view /*event*/, const json_view::SimdView& /*data*/,
                                                   UnixNanos /*at*/, ModelCall& /*call*/) {
    return std::nullopt;
  }
  // The same from a small event read by json_view::FlatJson (parsers/flat_json.h); nullopt, touching
  // nothing, when this API has no fast path.
  virtual std::optional<bool> on_stream_event_flat(std::string_view /*event*/, const json_view::FlatView& /*data*/,
                                                   UnixNanos /*at*/, ModelCall& /*call*/) {
    return std::nullopt;
  }
  // End of the response: writes accumulated output, finish reasons and usage. `done_marker` says the
  // stream ended with `data: [DONE]`. Returns false when the stream lacked its terminal event.
  virtual bool finish(ModelCall& call, bool done_marker) = 0;
};

enum class ApiShape { kNone, kChatCompletions, kResponses, kAnthropicMessages, kGemini, kGeminiEmbeddings,
                      kEmbeddings, kOllamaChat };

// nullptr for kNone.
std::unique_ptr<ApiParser> make_api_parser(ApiShape shape);

}  // namespace llmtap
