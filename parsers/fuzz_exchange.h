#pragma once
// Shared body of the per-API fuzz targets: the input is "<request body>\n====\n<response body>"
// (without the separator, the whole input serves as both). The response is sent as SSE when it
// looks like an event stream, else as JSON, in chunks whose size derives from the input, so the
// corpus seeds (real fixtures) stay meaningful while splits vary.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "parsers/exchange_parser.h"

namespace llmtap::fuzz {

inline void run_exchange(const char* host, const char* target, const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string_view req = in, resp = in;
  if (auto sep = in.find("\n====\n"); sep != std::string_view::npos) {
    req = in.substr(0, sep);
    resp = in.substr(sep + 6);
  }
  std::size_t piece = 1 + (size * 2654435761u) % 61;
  bool sse = resp.substr(0, 5) == "data:" || resp.substr(0, 6) == "event:" || resp.substr(0, 1) == ":";
  bool ndjson = std::string_view(target).find("/api/chat") != std::string_view::npos;
  ConnectionInfo conn{host, 443, true, "proxy", 0};
  ParserOptions opts;
  opts.body_cap = 1 << 16;
  ExchangeParser p(conn, 1, opts);
  p.request_head(RequestHead{"POST", target, {{"Host", host}, {"Content-Type", "application/json"}}}, 1);
  for (std::size_t i = 0; i < req.size(); i += piece) p.request_body(req.substr(i, piece), 2);
  p.request_end(3);
  int status = size % 17 == 0 ? 500 : 200;
  p.response_head(ResponseHead{status, {{"Content-Type", sse ? "text/event-stream" : ndjson ? "application/x-ndjson" : "application/json"}}}, 4);
  for (std::size_t i = 0; i < resp.size(); i += piece) p.response_body(resp.substr(i, piece), 5);
  ModelCall c = p.finish(6, size % 5 != 0);
  // Invariants every record must keep, whatever the input.
  if (c.provider.empty() || c.api.empty()) __builtin_trap();
  if (c.status == CallStatus::kComplete && (c.truncated || c.http_status >= 400)) __builtin_trap();
}

}  // namespace llmtap::fuzz
