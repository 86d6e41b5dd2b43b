#include "parsers/exchange_parser.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <vector>

#include "common/ascii.h"
#include "parsers/api_parser.h"
#include "parsers/attribution.h"
#include "parsers/body_buffer.h"
#include "parsers/content_decoder.h"
#include "parsers/fast_request.h"
#include "parsers/header_filter.h"
#include "parsers/json_fields.h"
#include "parsers/json_seq_splitter.h"
#include "parsers/request_prefix.h"
#include "parsers/route.h"
#include "parsers/sse_decoder.h"

namespace llmtap {
namespace {

constexpr std::size_t kUnknownBodyKeep = 64 * 1024;  // enough for an error message

bool looks_like_sse(std::string_view body) {
  auto p = body.find_first_not_of(" \t\r\n");
  if (p == std::string_view::npos) return false;
  body.remove_prefix(p);
  return body.substr(0, 5) == "data:" || body.substr(0, 6) == "event:" || body.substr(0, 1) == ":";
}

}  // namespace

struct ExchangeParser::Impl : SseEventSink {
  enum class Mode { kJson, kSse, kJsonSeq, kIgnore };

  ConnectionInfo conn;
  ParserOptions opts;
  ModelCall call;
  Route route;
  std::unique_ptr<ApiParser> api;

  bool have_request = false;
  bool request_parsed = false;
  std::unique_ptr<ContentDecoder> req_decoder;
  std::string req_body;
  bool req_truncated = false;
  RequestPrefix* prefix = nullptr;  // the connection's, when requests may elide a repeated prefix

  bool have_response = false;
  Mode mode = Mode::kIgnore;
  std::unique_ptr<ContentDecoder> resp_decoder;
  std::string resp_body;    // JSON mode: the whole decoded body
  std::string scratch;      // stream modes: decoded bytes of the current chunk
  std::size_t resp_decoded = 0;
  SseDecoder sse;
  StreamUnitBatch batch;    // SSE events of the bytes being fed, read together (parsers/fast_request.h)
  JsonSeqSplitter seq;
  UnixNanos events_ts = 0;  // arrival of the bytes the SSE decoder is being fed
  std::vector<std::string> values;
  bool done_marker = false;
  UnixNanos last_event_ts = 0;  // arrival of the chunk carrying the latest stream event
  UnixNanos last_body_ts = 0;   // arrival of the latest response body bytes
  bool invalid_json = false;
  bool decode_failed = false;
  bool resp_truncated = false;

  Impl(const ConnectionInfo& c, const ParserOptions& o) : conn(c), opts(o) {}
  ~Impl() override {
    body_buffer::give_back(req_body);
    body_buffer::give_back(resp_body);
  }

  std::size_t cap() const { return opts.body_cap; }
  JsonParsePath json_path() const { return opts.reference_json_only ? JsonParsePath::kReference : JsonParsePath::kAuto; }

  void on_request_head(const RequestHead& head, UnixNanos ts) {
    have_request = true;
    route = route_request(head, conn, opts.registry.get());
    call.kind = route.kind;
    call.provider = route.provider;
    call.api = route.api;
    call.operation = route.operation;
    call.host = route.host;
    call.method = head.method;
    call.path = route.path;
    call.query = route.query;
    call.request_model = route.model_from_path;
    call.stream = route.stream_from_path;
    call.request_headers = without_secrets(head.headers);
    call.traceparent = header_value(head.headers, "traceparent");
    // Headers first: they win over the body (read later). Configured headers may be ones the
    // secret filter drops from request_headers (names with "session"), so read the raw ones.
    attribution::read_headers(head.headers, opts.user_header, opts.session_header, call.attribution);
    attribution::read_baggage(header_value(head.headers, "baggage"), call.attribution);
    call.timings.request_start = ts;
    call.timings.request_end = ts;
    api = make_api_parser(route.shape);
    const std::string encoding = header_value(head.headers, "content-encoding");
    req_decoder = std::make_unique<ContentDecoder>(encoding);
    if (api) req_body = body_buffer_for(head.headers, encoding.empty());
  }

  // The buffer a body of these headers is read into: one allocation of the announced length (an
  // identity-encoded body's Content-Length), or the thread's spare for a large or unknown-length
  // body (parsers/body_buffer.h). Grown a read at a time, an 8 MiB body is re-allocated and
  // page-faulted again at every doubling (page faults were half the time of an 8 MiB body).
  std::string body_buffer_for(const Headers& headers, bool identity) const {
    const std::string content_length = identity ? header_value(headers, "content-length") : std::string();
    std::size_t n = 0;
    const auto [end, ec] = std::from_chars(content_length.data(), content_length.data() + content_length.size(), n);
    if (ec != std::errc() || end != content_length.data() + content_length.size()) n = 0;
    return body_buffer::take(n, n == 0 ? 0 : std::min(n, cap()) + kJsonPadding);
  }

  void on_request_body(std::string_view bytes, UnixNanos ts) {
    call.timings.request_end = ts;
    if (!api || req_truncated || !req_decoder || req_decoder->failed()) return;
    std::size_t room = cap() > req_body.size() ? cap() - req_body.size() : 0;
    req_decoder->feed(bytes, req_body, room);
    if (req_decoder->limit_reached()) {
      req_truncated = true;
      call.truncated = true;
    }
  }

  void parse_request_once() {
    if (request_parsed) return;
    request_parsed = true;
    if (api && !req_body.empty() && !req_truncated) {
      if (prefix != nullptr && opts.elide_request_prefix)
        parse_request_resuming(req_body, *api, call, *prefix, json_path());
      else
        parse_request_body(req_body, *api, call, json_path());
    }
    body_buffer::give_back(req_body);
  }

  void on_response_head(const ResponseHead& head, UnixNanos ts) {
    parse_request_once();
    have_response = true;
    call.http_status = head.status;
    call.timings.response_first_byte = ts;
    resp_decoder = std::make_unique<ContentDecoder>(header_value(head.headers, "content-encoding"));
    std::string ctype = ascii_lower(header_value(head.headers, "content-type"));
    if (head.status >= 400 || !api) {
      mode = Mode::kJson;  // an error body (or an unknown API's body, kept only for an error message)
    } else if (ctype.find("text/event-stream") != std::string::npos) {
      mode = Mode::kSse;
      call.stream = true;
    } else if (ctype.find("ndjson") != std::string::npos || route.shape == ApiShape::kOllamaChat ||
               (route.stream_from_path && ctype.find("json") != std::string::npos)) {
      mode = Mode::kJsonSeq;
    } else {
      mode = Mode::kJson;
    }
    if (mode == Mode::kJson && api && head.status < 400) resp_body = body_buffer_for(head.headers, resp_decoder->identity());
  }

  void mark_content(UnixNanos ts) {
    if (call.timings.first_content_chunk == 0) call.timings.first_content_chunk = ts;
  }

  void on_response_body(std::string_view bytes, UnixNanos ts) {
    if (!have_response || bytes.empty() || !resp_decoder || decode_failed || resp_truncated) return;
    last_body_ts = ts;
    std::size_t limit = api ? cap() : kUnknownBodyKeep;
    std::size_t room = limit > resp_decoded ? limit - resp_decoded : 0;
    std::string& dst = mode == Mode::kJson ? resp_body : scratch;
    std::size_t before = dst.size();
    // A stream's bytes, when not content-encoded, are framed where they are (no copy per chunk).
    std::string_view decoded;
    if (mode != Mode::kJson && resp_decoder->identity()) {
      decoded = resp_decoder->pass_through(bytes, 0, room);
      resp_decoded += decoded.size();
    } else if (resp_decoder->feed(bytes, dst, room)) {
      decoded = std::string_view(dst).substr(before);
      resp_decoded += dst.size() - before;
    } else {
      decode_failed = true;
      return;
    }
    if (resp_decoder->limit_reached()) {
      if (api) call.truncated = true;
      resp_truncated = true;
    }
    if (mode == Mode::kJson) {
      if (dst.size() > before && call.http_status < 400 && api) mark_content(ts);
      return;
    }
    if (mode == Mode::kSse) {
      events_ts = ts;
      feed_sse(decoded);
    } else if (mode == Mode::kJsonSeq) {
      seq.feed(decoded, values);
    }
    scratch.clear();
    drain(ts);
  }

  // One SSE event, as the decoder completes it.
  void on_event(SseEvent& ev) override {
    last_event_ts = events_ts;
    if (ev.text == "[DONE]") {
      done_marker = true;
      return;
    }
    if (ev.text.empty()) return;
    if (json_path() == JsonParsePath::kAuto && api->has_fast_path() && StreamUnitBatch::batchable(ev.text)) {
      // Most events are small and simple enough for FlatJson, a fraction of a DOM parse; the others
      // wait in the batch. Its own document: the batch's units read alone use read_stream_unit's.
      thread_local json_view::FlatJson doc;
      if (doc.parse(ev.text)) {
        read_batch();  // the events before this one first
        note_unit(read_flat_unit(ev.event, doc, ev.text, events_ts, *api, call), events_ts);
        return;
      }
      if (!batch.fits(ev.text)) read_batch();
      batch.add(ev.event, ev.text);
      return;
    }
    read_batch();  // the events before this one first
    // In place: the decoder keeps SseEvent::kPadding readable bytes past the text.
    note_unit(read_stream_unit(ev.event, ev.text, true, events_ts, *api, call, json_path()), events_ts);
  }

  // The events batched since the last call (all of them from the bytes fed at events_ts).
  void read_batch() {
    if (batch.empty()) return;
    const StreamUnitBatch::Results r = batch.read(events_ts, *api, call);
    if (r.invalid_json) invalid_json = true;
    if (r.content) mark_content(events_ts);
  }

  void feed_sse(std::string_view bytes) {
    sse.feed(bytes, *this);
    read_batch();
  }
  void finish_sse() {
    sse.finish(*this);
    read_batch();
  }

  void drain(UnixNanos ts) {
    if (!values.empty()) last_event_ts = ts;
    for (auto& v : values) read_unit("", v, ts);
    values.clear();
  }

  // A whole JSON body: the API's result, an error envelope, or an event stream sent as JSON.
  void read_json_body(bool& http_error, UnixNanos ts) {
    if (!http_error && api && !opts.reference_json_only && read_response_body_fast(resp_body, *api, call)) return;
    json_fields::json body = json_fields::parse(resp_body);
    if (body.is_discarded() && !http_error && api && looks_like_sse(resp_body)) {
      // An event stream sent without its content type (some compatible servers).
      call.stream = true;
      events_ts = ts;
      feed_sse(resp_body);
      finish_sse();
    } else if (body.is_discarded()) {
      if (!http_error && api) invalid_json = true;
    } else if (http_error || json_fields::looks_like_error_body(body)) {
      json_fields::extract_error(body, call);
      http_error = true;
    } else if (api) {
      api->on_json_body(body, call);
    }
  }

  void read_unit(std::string_view event, std::string& data, UnixNanos ts) {
    note_unit(read_stream_unit(event, data, ts, *api, call, json_path()), ts);
  }

  void note_unit(StreamUnitResult r, UnixNanos ts) {
    switch (r) {
      case StreamUnitResult::kInvalidJson: invalid_json = true; break;
      case StreamUnitResult::kContent: mark_content(ts); break;
      case StreamUnitResult::kNoContent: break;
    }
  }

  ModelCall finish(UnixNanos ts, bool complete) {
    parse_request_once();
    if (!have_request) {
      call.kind = ExchangeKind::kOther;
      call.provider = "unknown";
      call.api = "unknown";
    }
    call.connection_id = conn_id;
    call.client_pid = conn.client_pid;
    call.timings.response_end = ts;
    if (last_event_ts != 0) call.timings.content_end = last_event_ts;
    bool stream_complete = true;
    if (have_response && resp_decoder && !decode_failed && !resp_truncated) {
      if (!resp_decoder->finish() && !resp_decoder->identity()) complete = false;
    }
    if (decode_failed && call.error_message.empty()) {
      call.error_type = "content_decoding";
      call.error_message = resp_decoder ? resp_decoder->error() : "";
    }
    if (have_response && mode == Mode::kSse && api) {
      events_ts = ts;
      finish_sse();
    }
    if (have_response && mode == Mode::kJsonSeq && api && seq.in_value()) complete = false;
    bool http_error = call.http_status >= 400;
    if (have_response && mode == Mode::kJson && !resp_body.empty() && !decode_failed) read_json_body(http_error, ts);
    if (api && have_response && !http_error) stream_complete = api->finish(call, done_marker);
    // A stream is complete once its terminal event arrived (response.completed, message_stop,
    // [DONE], a finish reason), whatever became of the framing's last bytes: clients such as Codex
    // stop reading there and close before the chunked body's terminator.
    if (api && have_response && !http_error && last_event_ts != 0 && stream_complete && !complete) {
      complete = true;
      if (last_body_ts != 0) call.timings.response_end = std::max(last_body_ts, last_event_ts);
    }
    if (http_error) {
      call.status = CallStatus::kError;
      if (call.error_type.empty()) call.error_type = "http_" + std::to_string(call.http_status);
      if (call.error_message.empty() && !resp_body.empty()) {
        call.error_message = resp_body.substr(0, std::min<std::size_t>(resp_body.size(), 1024));
      }
    } else if (call.status != CallStatus::kError) {
      bool ok = have_response && complete && stream_complete && !invalid_json && !decode_failed &&
                !resp_truncated && !call.capture_gap;
      if (!have_request && !have_response) ok = false;
      call.status = ok ? CallStatus::kComplete : CallStatus::kIncomplete;
    }
    body_buffer::give_back(resp_body);
    return std::move(call);
  }

  std::uint64_t conn_id = 0;
};

ExchangeParser::ExchangeParser(const ConnectionInfo& conn, std::uint64_t conn_id, const ParserOptions& opts)
    : impl_(std::make_unique<Impl>(conn, opts)) {
  impl_->conn_id = conn_id;
  impl_->call.connection_id = conn_id;
}

ExchangeParser::~ExchangeParser() = default;

// The data path never throws: anything unexpected (allocation failure, a JSON library corner case)
// is contained here and the record is marked incomplete.
#define LLMTAP_GUARD(stmt)                      \
  try {                                         \
    stmt;                                       \
  } catch (...) {                               \
    impl_->invalid_json = true;                 \
  }

void ExchangeParser::request_head(const RequestHead& head, UnixNanos ts) noexcept {
  LLMTAP_GUARD(impl_->on_request_head(head, ts));
}
void ExchangeParser::resume_request_from(RequestPrefix* prefix) noexcept { impl_->prefix = prefix; }

void ExchangeParser::request_body(std::string_view bytes, UnixNanos ts) noexcept {
  LLMTAP_GUARD(impl_->on_request_body(bytes, ts));
}
void ExchangeParser::request_end(UnixNanos ts) noexcept {
  LLMTAP_GUARD(impl_->call.timings.request_end = ts; impl_->parse_request_once());
}
void ExchangeParser::response_head(const ResponseHead& head, UnixNanos ts) noexcept {
  LLMTAP_GUARD(impl_->on_response_head(head, ts));
}
void ExchangeParser::response_body(std::string_view bytes, UnixNanos ts) noexcept {
  LLMTAP_GUARD(impl_->on_response_body(bytes, ts));
}
bool ExchangeParser::records() const noexcept { return impl_->route.records; }

ModelCall ExchangeParser::finish(UnixNanos ts, bool complete) noexcept {
  try {
    return impl_->finish(ts, complete);
  } catch (...) {
    ModelCall c = impl_->call;
    c.status = CallStatus::kIncomplete;
    return c;
  }
}

#undef LLMTAP_GUARD

}  // namespace llmtap
