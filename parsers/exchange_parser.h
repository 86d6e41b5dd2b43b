#pragma once
// Turns one HTTP exchange (request head/body, response head/body, as framed by an HTTP/1.1 or
// HTTP/2 decoder) into one ModelCall. Sans-IO: events in, record out. Bodies arrive de-framed
// (no chunk sizes) but still content-encoded; decoding, SSE and provider dispatch happen inside.
// Never throws; bad input yields a record marked incomplete/error with what was seen.
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "collector/tap.h"
#include "common/model_call.h"
#include "parsers/capture_counters.h"
#include "parsers/provider_registry.h"

namespace llmtap {

struct RequestHead {
  std::string method;
  std::string target;  // as on the wire: origin-form (/v1/...), absolute-form (http://h/...), or gateway (/openai/v1/...)
  Headers headers;
};

struct ResponseHead {
  int status = 0;
  Headers headers;
};

struct ParserOptions {
  std::size_t body_cap = 32u << 20;  // bytes of decoded body parsed per direction; more is marked truncated
  // Hosts declared by config on top of the built-in provider table; null: built-in table only.
  std::shared_ptr<const ProviderRegistry> registry;
  // Where capture-side problems are counted (WebSocket decoding); shared by the copies of these
  // options (one per connection) so AsyncTap::stats() sees them all; null: not counted.
  std::shared_ptr<CaptureCounters> counters = std::make_shared<CaptureCounters>();
  // Request headers naming the end user / the session (--user-header, --session-header); "" none.
  std::string user_header;
  std::string session_header;
  // JSON through nlohmann only, never the simdjson fast path (parsers/fast_request.h): for the
  // differential tests and fuzzing, which compare the two.
  bool reference_json_only = false;
  // Leave out of ModelCall::input the leading messages a request repeats, byte for byte, from the
  // previous request on its connection (parsers/request_prefix.h): per-turn parsing then costs the
  // new messages, not the whole history. Only with content capture off: the exported input of a
  // generation (gen_ai.input.messages) needs every message.
  bool elide_request_prefix = false;
};

struct RequestPrefix;

class ExchangeParser {
 public:
  ExchangeParser(const ConnectionInfo& conn, std::uint64_t conn_id, const ParserOptions& opts);
  ~ExchangeParser();
  ExchangeParser(const ExchangeParser&) = delete;
  ExchangeParser& operator=(const ExchangeParser&) = delete;

  // With ParserOptions::elide_request_prefix: where the connection keeps what its previous request's
  // parse left for the next one; it must outlive this parser. Null (the default): nothing elided.
  void resume_request_from(RequestPrefix* prefix) noexcept;
  void request_head(const RequestHead& head, UnixNanos ts) noexcept;
  void request_body(std::string_view bytes, UnixNanos ts) noexcept;
  void request_end(UnixNanos ts) noexcept;
  void response_head(const ResponseHead& head, UnixNanos ts) noexcept;
  void response_body(std::string_view bytes, UnixNanos ts) noexcept;
  // complete=false when the exchange was cut (connection closed/reset mid-body, capture gap).
  ModelCall finish(UnixNanos ts, bool complete) noexcept;
  // False when the request's route is known not to be a model call: the caller drops the record.
  bool records() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace llmtap
