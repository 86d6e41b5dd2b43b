#pragma once
// The normalized model-call record: what one HTTP exchange with a model provider meant.
// Every capture path (proxy, preload) and every provider parser produces exactly this struct;
// trace reconstruction and pricing consume only this struct.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"

namespace llmtap {

struct Header {
  std::string name;
  std::string value;
};
using Headers = std::vector<Header>;

struct ToolCall {
  std::string id;         // call id as the provider names it (call_..., toolu_..., or synthesized for Gemini)
  std::string name;
  std::string arguments;  // JSON text as sent/received (Anthropic input / Gemini args re-serialized compactly)
  // Streams: when the call was complete in the stream, the moment the client could start the tool
  // (Anthropic content_block_stop, Responses output_item.done, Chat the next call or the finish
  // reason, Gemini the chunk carrying it). 0 when not streamed or not known: the response's end.
  UnixNanos ready_at = 0;
  // Hosted and server-side tools (Responses web_search_call, mcp_call, ...; Anthropic
  // server_tool_use): parsers/hosted_tools.h. "" for a plain function tool.
  std::string tool_type{};   // gen_ai.tool.type: "function", "extension", "datastore"
  bool server_side = false;  // the provider ran it within this response: complete, its result below
  std::string result{};      // server_side: the result as the wire gives it ("" when it gives none)
  bool result_error = false; // server_side: the provider reported the call failed
  UnixNanos started_at = 0;  // streams: when the item began (0: not known)
};

struct ToolDef {
  std::string name;
  std::string schema_hash;  // hex hash of the canonical JSON schema, so a changed schema is visible
};

// One conversation item, normalized across APIs:
//  - role "system"|"developer"|"user"|"assistant": text (and, for assistant, tool_calls);
//  - role "tool": a tool result answering tool_call_id (Chat "tool" message, Responses
//    function_call_output, Anthropic tool_result block, Gemini functionResponse part);
//  - Responses API function_call input items become role "assistant" with one tool call;
//  - reasoning items/thinking blocks become role "assistant" with `reasoning` set.
struct Message {
  std::string role;
  std::string text;
  std::string reasoning;
  std::vector<ToolCall> tool_calls;
  std::string tool_call_id;  // role "tool": the call it answers
  std::string tool_name;     // role "tool": the tool's name when the API says it (Gemini)
  bool is_error = false;     // role "tool": the result reports an error (Anthropic is_error)
  std::string name{};        // the speaker's name as the client wrote it (Chat `name`), if any
};

// Usage in disjoint buckets: summing all of them gives total tokens with nothing counted twice.
struct Usage {
  bool present = false;                // the provider reported usage at all
  std::int64_t input_uncached = 0;     // prompt tokens billed at the base input price
  std::int64_t cache_read = 0;         // prompt tokens served from cache
  std::int64_t cache_write_5m = 0;     // prompt tokens written to a 5-minute cache (Anthropic default)
  std::int64_t cache_write_1h = 0;     // prompt tokens written to a 1-hour cache
  std::int64_t output = 0;             // completion tokens that are not reasoning
  std::int64_t reasoning = 0;          // reasoning/thinking tokens (billed as output unless priced apart)

  std::int64_t input_total() const { return input_uncached + cache_read + cache_write_5m + cache_write_1h; }
  std::int64_t output_total() const { return output + reasoning; }
};

struct Timings {
  UnixNanos request_start = 0;        // first request byte seen
  UnixNanos request_end = 0;          // last request byte seen
  UnixNanos response_first_byte = 0;  // first response byte seen
  UnixNanos first_content_chunk = 0;  // first chunk carrying model output (streams); 0 if none
  UnixNanos response_end = 0;         // last response byte seen (or when the exchange was cut)
  UnixNanos content_end = 0;          // streams: when the last event arrived (the client can act on the
                                      // response from then, before the framing's final bytes); 0 otherwise
};

// What an exchange with a provider host was, by the route table of its API (parsers/route.cc):
// only model calls become generations; token counting is counted apart; the rest (bootstrap,
// telemetry, settings, model lists, files, conversation CRUD, HEAD, unknown paths) is forwarded
// untouched and traced as nothing.
enum class ExchangeKind {
  kModelCall,   // a request for model output (chat, responses, messages, generateContent, embeddings)
  kTokenCount,  // countTokens / count_tokens / input_tokens: no output, no generation
  kOther,       // not a model API call
};

// Who and what a call serves, as the request says it (SPEC.md "Attribution"). Values are raw here:
// the trace layer hashes user ids before any span is made. The first source that names a field
// wins, in this order: --user-header/--session-header, the W3C baggage header, the body.
struct Attribution {
  std::string user_id;           // OpenAI safety_identifier, else user; Anthropic metadata.user_id; baggage user.id
  std::string session_id;        // baggage session.id
  std::string prompt_cache_key;  // OpenAI prompt_cache_key
  std::vector<std::pair<std::string, std::string>> metadata;  // OpenAI metadata; other baggage members
};

// Request-prefix elision (parsers/request_prefix.h, off unless ParserOptions::elide_request_prefix):
// when a request repeats, byte for byte, the previous request on its connection up to that one's last
// input message, those messages are not parsed again and not in `input`; the trace stage continues
// from the history it recorded under `elided_key` (trace/elided_history.h).
struct InputPrefix {
  std::uint64_t key = 0;              // this request's bytes up to its last input message; 0: none
  std::uint64_t elided_key = 0;       // the earlier request's `key` whose messages were left out; 0: none
  std::size_t elided_messages = 0;    // leading messages of the whole input that are not in `input`
};

enum class CallStatus {
  kComplete,    // a full, well-formed response
  kIncomplete,  // cut mid-stream, truncated stream, capture gap: what was seen is kept
  kError,       // the provider answered with an error (HTTP 4xx/5xx, response.failed, error event)
};

struct ModelCall {
  // Where and how.
  ExchangeKind kind = ExchangeKind::kModelCall;
  std::string provider;   // "openai", "anthropic", "gemini", "azure_openai", "openrouter", ..., "unknown"
  std::string api;        // "chat_completions", "responses", "anthropic_messages", "gemini", "embeddings",
                          // "ollama_chat", "unknown"
  std::string operation;  // GenAI operation: "chat", "generate_content", "embeddings", "" when unknown
  std::string host;
  std::string method;
  std::string path;       // path without gateway prefix and without query
  std::string query;
  int http_status = 0;
  std::uint64_t connection_id = 0;
  std::uint64_t client_pid = 0;       // when known (preload)

  // Request.
  std::string request_model;
  bool stream = false;
  std::string system_instructions;
  std::vector<Message> input;
  std::vector<ToolDef> tools;
  std::string tool_choice;            // "auto", "required", "none", or the forced tool's name
  std::string previous_response_id;
  std::string conversation_id;        // Responses `conversation` (string or {"id"}): server-side conversation
  std::string service_tier;           // requested or (preferably) reported: "default", "flex", "batch", "priority"
  int n = 1;
  Headers request_headers;            // secrets already dropped
  std::string traceparent;            // W3C traceparent header, if the client sent one
  Attribution attribution;
  InputPrefix input_prefix;

  // Response.
  std::string response_model;
  std::string response_id;
  std::vector<Message> output;        // one assistant message per choice (Chat n>1), or per output item group
  std::vector<std::string> finish_reasons;
  Usage usage;
  Timings timings;

  // Outcome.
  CallStatus status = CallStatus::kComplete;
  std::string error_type;
  std::string error_message;
  bool truncated = false;             // a body exceeded the parse cap; forwarding was unaffected
  bool capture_gap = false;           // bytes were dropped before parsing (backpressure)
  // Not a model call, only conversation state: a Responses WebSocket prewarm (`generate: false`)
  // whose items, instructions and response id a later call continues. Never a generation span.
  bool state_only = false;
};

}  // namespace llmtap
