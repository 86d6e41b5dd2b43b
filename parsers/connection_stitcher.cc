#include "parsers/connection_stitcher.h"

#include <deque>

#include "parsers/header_filter.h"
#include "parsers/http1_parser.h"
#include "parsers/request_prefix.h"
#include "parsers/route.h"
#include "parsers/websocket_session.h"

namespace llmtap {
namespace {

struct Exchange {
  std::unique_ptr<ExchangeParser> parser;
  std::string method;
  bool request_done = false;
  bool gap = false;
  // The request asked to switch to WebSocket: whatever the answer, the exchange is transport
  // set-up, not a model call, and is never emitted. The API its route names picks the session.
  bool websocket_upgrade = false;
  Route websocket_route;  // the upgrade path routed as the model call it carries
};

}  // namespace

struct ConnectionStitcher::Impl {
  // Request side: each head opens an exchange; body and end go to the newest one.
  struct RequestSide : Http1Callbacks {
    Impl* self;
    explicit RequestSide(Impl* s) : self(s) {}
    void on_message_begin() override { self->request_begin_ts = self->ts; }
    void on_head(const Http1Head& h) override { self->on_request_head(h); }
    void on_body(std::string_view b) override {
      if (self->current_request) self->current_request->parser->request_body(b, self->ts);
    }
    void on_tunnel_data(std::string_view b) override {
      if (self->websocket) self->websocket->data(Direction::kClientToServer, b, self->ts);
    }
    void on_message_end() override {
      if (self->current_request) {
        self->current_request->request_done = true;
        self->current_request->parser->request_end(self->ts);
        self->current_request = nullptr;
      }
    }
  };
  // Response side: responses answer requests in order (pipelining), so the oldest open exchange.
  struct ResponseSide : Http1Callbacks {
    Impl* self;
    explicit ResponseSide(Impl* s) : self(s) {}
    void on_message_begin() override { self->response_begin_ts = self->ts; }
    void on_head(const Http1Head& h) override { self->on_response_head(h); }
    void on_body(std::string_view b) override {
      if (self->responding) self->pending.front()->parser->response_body(b, self->ts);
    }
    void on_message_end() override { self->on_response_end(); }
    void on_tunnel_data(std::string_view b) override {
      if (self->websocket) self->websocket->data(Direction::kServerToClient, b, self->ts);
    }
    std::string request_method() override {
      return self->pending.empty() ? std::string() : self->pending.front()->method;
    }
  };

  Impl(const ConnectionInfo& i, std::uint64_t id, const ParserOptions& o, ModelCallSink& s)
      : info(i), conn_id(id), opts(o), sink(s), req_cb(this), resp_cb(this),
        req_parser(Http1Kind::kRequest, req_cb), resp_parser(Http1Kind::kResponse, resp_cb) {}

  void on_request_head(const Http1Head& h) {
    auto ex = std::make_shared<Exchange>();
    ex->parser = std::make_unique<ExchangeParser>(info, conn_id, opts);
    ex->parser->resume_request_from(&request_prefix);
    ex->method = h.method;
    RequestHead head{h.method, h.target, h.headers};
    ex->parser->request_head(head, request_begin_ts);
    if (header_has_token(h.headers, "upgrade", "websocket")) {
      ex->websocket_upgrade = true;
      // The API a WebSocket carries is the one its path names for a model call (sent as POST over HTTP).
      RequestHead as_call{"POST", h.target, h.headers};
      ex->websocket_route = route_request(as_call, info, opts.registry.get());
    }
    pending.push_back(ex);
    current_request = ex.get();
  }

  void on_response_head(const Http1Head& h) {
    if (h.status == 101 && !pending.empty() && pending.front()->websocket_upgrade &&
        header_has_token(h.headers, "upgrade", "websocket")) {
      return start_websocket(h);
    }
    if (h.status >= 100 && h.status < 200) return;  // interim (100 Continue, 103 Early Hints)
    if (pending.empty()) {
      // A response without a request we saw (after a gap): frame it, record nothing.
      responding = false;
      return;
    }
    responding = true;
    pending.front()->parser->response_head(ResponseHead{h.status, h.headers}, response_begin_ts);
  }

  // The bytes after this 101 are WebSocket frames in both directions. The upgrade exchange becomes
  // the template of the session's calls, not a record of its own.
  void start_websocket(const Http1Head& h) {
    auto ex = pending.front();
    pending.pop_front();
    if (current_request == ex.get()) current_request = nullptr;
    req_parser.enter_tunnel();
    ex->parser->response_head(ResponseHead{h.status, h.headers}, response_begin_ts);
    ModelCall upgrade = ex->parser->finish(ts, true);
    // The GET itself is transport set-up; the calls on the socket are of the API its path names.
    upgrade.kind = ex->websocket_route.kind;
    upgrade.api = ex->websocket_route.api;
    upgrade.operation = ex->websocket_route.operation;
    auto session = make_websocket_session(ex->websocket_route.shape, upgrade, sink, opts.counters.get());
    if (!session) return;  // not a model API (a realtime session, an unknown path): relayed, not decoded
    websocket = std::make_unique<WebSocketCapture>(std::move(session), negotiate_websocket_extensions(h.headers),
                                                   opts.body_cap, opts.counters.get());
  }

  void on_response_end() {
    if (!responding) return;
    responding = false;
    emit_front(true);
  }

  void emit_front(bool complete) {
    auto ex = pending.front();
    pending.pop_front();
    if (current_request == ex.get()) current_request = nullptr;  // answered before the body ended
    ModelCall call = ex->parser->finish(ts, complete && !ex->gap);
    // A refused or cut upgrade is transport set-up; a route known not to be a model API records nothing.
    if (ex->websocket_upgrade || !ex->parser->records()) return;
    if (ex->gap) {
      call.capture_gap = true;
      if (call.status == CallStatus::kComplete) call.status = CallStatus::kIncomplete;
    }
    sink.on_model_call(std::move(call));
  }

  void data(Direction dir, std::string_view bytes, UnixNanos t) {
    ts = t;
    Http1Parser& p = dir == Direction::kClientToServer ? req_parser : resp_parser;
    if (p.failed()) return;
    if (!p.feed(bytes)) {
      // Not HTTP/1 (or broken beyond repair): what is in flight in that direction is cut.
      if (dir == Direction::kClientToServer) {
        if (current_request) current_request->gap = true;
      } else if (responding) {
        pending.front()->gap = true;
      }
    }
  }

  void gap(Direction dir, UnixNanos t) {
    ts = t;
    if (websocket) websocket->gap(dir, t);
    if (dir == Direction::kClientToServer) {
      if (current_request) {
        current_request->gap = true;
        current_request = nullptr;
      }
      req_parser.resync();
    } else {
      // The answer to the oldest request was (at least partly) lost.
      if (responding || (resp_parser.in_message() && !pending.empty())) {
        responding = false;
        pending.front()->gap = true;
        emit_front(false);
      }
      resp_parser.resync();
    }
  }

  void close(UnixNanos t) {
    ts = t;
    if (closed) return;
    closed = true;
    req_parser.eof();
    resp_parser.eof();  // ends a close-delimited response as complete
    while (!pending.empty()) emit_front(false);
    if (websocket) websocket->close(t);
  }

  ConnectionInfo info;
  std::uint64_t conn_id;
  ParserOptions opts;
  ModelCallSink& sink;
  RequestSide req_cb;
  ResponseSide resp_cb;
  Http1Parser req_parser;
  Http1Parser resp_parser;
  RequestPrefix request_prefix;  // what the last request parsed left for the next (elide_request_prefix)
  std::deque<std::shared_ptr<Exchange>> pending;  // requests not yet answered, oldest first
  Exchange* current_request = nullptr;           // the request whose body is being read
  std::unique_ptr<WebSocketCapture> websocket;    // after a 101 to a WebSocket with a model API
  bool responding = false;                        // pending.front() has a response head
  bool closed = false;
  UnixNanos ts = 0;
  UnixNanos request_begin_ts = 0;   // first byte of the request being framed
  UnixNanos response_begin_ts = 0;  // first byte of the response being framed
};

ConnectionStitcher::ConnectionStitcher(const ConnectionInfo& info, std::uint64_t conn_id,
                                       const ParserOptions& opts, ModelCallSink& sink)
    : impl_(std::make_unique<Impl>(info, conn_id, opts, sink)) {}

// Without close() in-flight exchanges are dropped: the sink may already be gone at destruction.
ConnectionStitcher::~ConnectionStitcher() = default;

void ConnectionStitcher::data(Direction dir, std::string_view bytes, UnixNanos ts) noexcept {
  try {
    impl_->data(dir, bytes, ts);
  } catch (...) {
    // Allocation failure or a sink that threw: drop this connection's state rather than the process.
  }
}

void ConnectionStitcher::gap(Direction dir, UnixNanos ts) noexcept {
  try {
    impl_->gap(dir, ts);
  } catch (...) {
  }
}

void ConnectionStitcher::close(UnixNanos ts) noexcept {
  try {
    impl_->close(ts);
  } catch (...) {
  }
}

}  // namespace llmtap
