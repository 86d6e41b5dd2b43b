#pragma once
// One client connection speaking HTTP/1.1 to the proxy, shared by the plain (gateway, absolute-form,
// CONNECT) and TLS (intercepted tunnel) transports via CRTP, as in Beast's advanced_server_flex.
//
// Per exchange: read the request header, route it, take a pooled upstream connection (or connect),
// send the rewritten header, then run two flows at once until both end:
//   A  request body   client -> upstream   (idle after the header when there is no body)
//   B  response       upstream -> client   (interim 1xx responses, then the final one)
// Running them together makes Expect: 100-continue and early upstream responses work. Every read is
// forwarded as soon as it arrives, straight out of the read buffer, in the exact bytes received.
// A `101 Switching Protocols` answering an Upgrade request (WebSocket) ends HTTP on the connection:
// the client stream, the upstream connection and the bytes already read past either header go to an
// UpgradedRelay (proxy/upgraded_relay.h), which keeps tapping both directions with the same Tap id.
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/asio/ssl/error.hpp>
#include <spdlog/spdlog.h>

#include <functional>
#include <memory>
#include <optional>
#include <utility>
#include <string>

#include "common/clock.h"
#include "proxy/http_framing.h"
#include "proxy/local_response.h"
#include "proxy/proxy_auth.h"
#include "proxy/proxy_context.h"
#include "proxy/request_routing.h"
#include "proxy/upgraded_relay.h"
#include "proxy/upstream_connection.h"

namespace llmtap::proxy {

inline constexpr std::size_t kReadChunk = 32 * 1024;
inline constexpr std::size_t kMaxResponseHeader = 1024 * 1024;
// After a local answer, at most this much of the request body is read and dropped, within kDrainTime.
inline constexpr std::size_t kMaxDrainedBody = 64 * 1024 * 1024;
inline constexpr std::chrono::seconds kDrainTime{5};

template <class Derived>
class HttpSession : public SessionBase {
 public:
  HttpSession(Worker& w, beast::flat_buffer buffer) : SessionBase(w), client_buf_(std::move(buffer)) {}
  ~HttpSession() override {
    if (tap_id_ && worker_.ctx.tap) worker_.ctx.tap->close(tap_id_, now_ns());
  }

  void on_server_stop() override {
    keep_alive_ = false;
    if (waiting_for_request_) abort();
  }

 protected:
  Derived& self() { return static_cast<Derived&>(*this); }
  auto& lowest() { return beast::get_lowest_layer(self().stream()); }
  const ProxyOptions& opts() const { return worker_.ctx.options; }

  // Entry point once the transport is ready.
  void read_request() {
    req_.emplace(opts().max_header_bytes, req_fields_);
    req_->eager(false);
    header_started_ = false;  // stop after the header: it is rewritten, the body is forwarded raw
    if (client_buf_.size() > 0) return parse_request_header();
    read_client_for_header();
  }

  void open_tap(const std::string& host, std::uint16_t port, bool tls, const char* source) {
    if (tap_id_ || !worker_.ctx.tap) return;
    tap_id_ = worker_.ctx.next_conn_id.fetch_add(1, std::memory_order_relaxed);
    ConnectionInfo info;
    info.host = host;
    info.port = port;
    info.tls = tls;
    info.source = source;
    worker_.ctx.tap->open(tap_id_, info, now_ns());
  }

  // Writes a locally generated error and closes the connection.
  void send_local_error(int status, std::string_view cause, std::string_view host, std::string_view message,
                        std::string_view extra_headers = {}) {
    if (response_started_ || closing_) return abort();
    if (status >= 500) spdlog::warn("{} {} for {}: {}", status, cause, host, message);
    else spdlog::info("{} {}: {}", status, cause, message);
    worker_.ctx.counters.local_errors[ProxyCounters::status_class(status)].fetch_add(1, std::memory_order_relaxed);
    tap_local_ = true;
    send_local_response(make_error_response(status, cause, host, message, extra_headers));
  }

  // Writes RESPONSE (complete bytes, Connection: close) and closes the connection. Tapped only for
  // errors on a tapped exchange (tap_local_).
  void send_local_response(std::string response) {
    if (response_started_ || closing_) return abort();
    closing_ = true;
    if (up_) up_->close();  // kept alive until the session ends: ops may still be pending on it
    response_started_ = true;
    local_response_ = std::move(response);
    if (std::exchange(tap_local_, false)) tap(Direction::kServerToClient, local_response_.data(), local_response_.size());
    lowest().expires_after(opts().idle_timeout);
    net::async_write(self().stream(), net::buffer(local_response_),
                     [self = self().shared_from_this()](beast::error_code ec, std::size_t) {
                       // A body read still pending rules out a graceful close (one read at a time).
                       if (ec || self->client_read_pending_) return self->abort();
                       self->drain_request_body();
                     });
  }

  // A local answer (an error, the gate's refusal) can go out while the client is still sending the
  // request body. Closing with those bytes unread makes the kernel reset the connection, and the
  // reset can destroy the answer before the client has read it. So the rest of the body is read
  // through the framing parser and dropped (never forwarded nor tapped), bounded in bytes and time,
  // and the connection is closed once the body has ended.
  void drain_request_body() {
    if (!req_ || !req_->is_header_done()) return close_client();
    if (std::exchange(header_in_buffer_, false)) client_buf_.consume(header_len_);
    if (client_buf_.size() > 0 && !req_->is_done()) {
      beast::error_code ec;
      const std::size_t n = req_->put(client_buf_.data(), ec);
      if (ec && ec != http::error::need_more) return close_client();
      client_buf_.consume(n);
      drained_ += n;
    }
    if (req_->is_done() || drained_ > kMaxDrainedBody) return close_client();
    if (!drain_deadline_) drain_deadline_ = std::chrono::steady_clock::now() + kDrainTime;
    lowest().expires_at(*drain_deadline_);
    client_read_pending_ = true;
    self().stream().async_read_some(client_buf_.prepare(kReadChunk),
                                    [self = self().shared_from_this()](beast::error_code ec, std::size_t n) {
                                      self->client_read_pending_ = false;
                                      if (ec) return self->abort();  // gone, or past the deadline
                                      self->client_buf_.commit(n);
                                      self->drain_request_body();
                                    });
  }

  void abort() {
    closing_ = true;
    if (up_) up_->close();
    beast::error_code ec;
    lowest().socket().shutdown(net::ip::tcp::socket::shutdown_both, ec);
    lowest().close();
  }

  void close_client() {
    closing_ = true;
    self().do_close();
  }

  beast::flat_buffer client_buf_;
  HeaderFields req_fields_;  // the current request's fields, reused for the next (outlives req_)
  std::optional<RequestFraming> req_;
  bool closing_ = false;

 private:
  enum class AfterWatch { kNone, kNextRequest, kClose, kUpgrade };  // what follows the client watch read

  void tap(Direction dir, const void* p, std::size_t n) {
    if (tap_id_ && n && worker_.ctx.tap)
      worker_.ctx.tap->data(tap_id_, dir, std::string_view(static_cast<const char*>(p), n), now_ns());
  }
  const char* client_data() const { return static_cast<const char*>(client_buf_.data().data()); }

  // ---- request header ----
  void read_client_for_header() {
    if (closing_) return;
    waiting_for_request_ = client_buf_.size() == 0;
    if (waiting_for_request_ && (worker_.stopping || !keep_alive_)) return close_client();
    if (waiting_for_request_) {
      lowest().expires_after(exchanges_ > 0 ? opts().idle_timeout : opts().header_read_timeout);
    } else {
      // One deadline for the whole header, so a client dribbling bytes cannot hold the connection.
      if (!header_started_) {
        header_started_ = true;
        header_deadline_ = std::chrono::steady_clock::now() + opts().header_read_timeout;
      }
      lowest().expires_at(header_deadline_);
    }
    self().stream().async_read_some(client_buf_.prepare(kReadChunk),
                                    beast::bind_front_handler(&HttpSession::on_header_read, self().shared_from_this()));
  }

  void on_header_read(beast::error_code ec, std::size_t n) {
    waiting_for_request_ = false;
    if (closing_) return;
    if (ec) {
      // A header-read or keep-alive timeout closes the stream (Beast's tcp_stream): nothing to answer on.
      if (ec != net::error::eof && ec != net::ssl::error::stream_truncated && ec != net::error::operation_aborted)
        spdlog::debug("client connection ended: {}", ec.message());
      return abort();
    }
    client_buf_.commit(n);
    parse_request_header();
  }

  void parse_request_header() {
    beast::error_code ec;
    std::size_t n = req_->put(client_buf_.data(), ec);
    if (ec == http::error::need_more && !req_->is_header_done()) {
      if (client_buf_.size() > opts().max_header_bytes)
        return send_local_error(431, "request_header_too_large", "", "request header exceeds the proxy's limit");
      return read_client_for_header();
    }
    if (ec == http::error::header_limit)
      return send_local_error(431, "request_header_too_large", "", "request header exceeds the proxy's limit");
    if (ec && ec != http::error::need_more)
      return send_local_error(400, "bad_request", "", "malformed request: " + ec.message());
    req_->eager(true);
    header_len_ = n;
    header_in_buffer_ = true;
    on_request_header();
  }

  // Requests on the proxy port must carry the credential (proxy_auth.h); inside an intercepted
  // tunnel the CONNECT already did. Returns false once the refusal is on its way; nothing was
  // tapped or sent upstream. Sets gateway_token_ when the target starts with the token segment.
  bool admit_request() {
    gateway_token_ = 0;
    const std::string& credential = worker_.ctx.credential;
    if (!Derived::kAuthenticates || credential.empty()) return true;
    const std::string_view target = req_->target();
    bool proxy_auth = false;
    for (const auto& f : req_->fields())
      if (RequestFraming::iequals(f.name, "proxy-authorization"))
        proxy_auth = proxy_auth || proxy_authorization_matches(f.value, credential);
    const bool forward = req_->method() == http::verb::connect || target.empty() || target.front() != '/';
    if (forward) {
      if (proxy_auth) return true;
      send_local_error(407, "proxy_auth_required", "",
                       "this llmtap proxy needs its credential: use HTTPS_PROXY=http://llmtap:CREDENTIAL@ADDR "
                       "(CREDENTIAL is in proxy-credential in llmtap's data directory)",
                       "Proxy-Authenticate: Basic realm=\"llmtap\"\r\n");
      return false;
    }
    GatewayTarget g = parse_gateway_target(target, credential);
    if (g.token == GatewayToken::kOk) {
      gateway_token_ = g.strip_length;
      return true;
    }
    if (g.token == GatewayToken::kMissing && proxy_auth) return true;
    if (g.token == GatewayToken::kWrong)
      send_local_error(403, "gateway_token_invalid", "", "the token in this gateway URL is not this proxy's credential");
    else
      send_local_error(401, "gateway_token_required", "",
                       "gateway routes need the credential: use base URLs like http://ADDR/t/CREDENTIAL/openai/v1");
    return false;
  }

  // The request header as the client sent it, minus the gateway token segment of its target.
  void tap_request_header() {
    if (gateway_token_ == 0) return tap(Direction::kClientToServer, client_data(), header_len_);
    const std::size_t at = req_->method_string().size() + 1;  // "METHOD SP target": one SP (RFC 9112)
    if (at + gateway_token_ > header_len_ || std::string_view(client_data() + at, 3) != kGatewayTokenPrefix)
      return;  // cannot happen for a parsed request; never tap the token
    tap(Direction::kClientToServer, client_data(), at);
    tap(Direction::kClientToServer, client_data() + at + gateway_token_, header_len_ - at - gateway_token_);
  }

  void on_request_header() {
    if (!admit_request()) return;
    if (req_->method() == http::verb::connect) return self().on_connect_request(req_->target(), header_len_);
    route_ = self().route(req_->target().substr(gateway_token_));
    if (!route_.ok) return send_local_error(route_.error_status, route_.error_cause, "", route_.error_message);
    self().on_routed(route_);
    if (const RequestGate* gate = opts().gate.get(); gate && refused_by(*gate)) return;
    worker_.ctx.counters.requests.fetch_add(1, std::memory_order_relaxed);
    tap_request_header();
    client_buf_.consume(header_len_);
    header_in_buffer_ = false;
    req_cursor_.reset();
    up_header_.clear();
    build_upstream_request_header(*req_, route_, up_header_);
    spdlog::debug("{} {}{} -> {}", req_->method_string(), route_.tap_host, loggable_path(route_.upstream_path),
                  route_.upstream.pool_key());
    request_done_ = response_done_ = response_started_ = upstream_write_failed_ = false;
    up_ = worker_.pool.take(route_.upstream.pool_key());
    if (up_) return send_request_header();
    connect_upstream(lowest().get_executor(), route_.upstream, worker_.ctx.upstream_tls,
                     ConnectTimeouts{opts().connect_timeout, opts().handshake_timeout},
                     [self = self().shared_from_this()](std::unique_ptr<UpstreamConnection> c, UpstreamFailure f) {
                       self->on_upstream_connected(std::move(c), std::move(f));
                     });
  }

  // The gate's answer, if it has one, goes out instead of the request (which is neither forwarded
  // nor tapped: the gate logs and counts what it refuses).
  bool refused_by(const RequestGate& gate) {
    const std::function<Headers()> headers = [this] {
      Headers out;
      for (const auto& f : req_->fields()) out.push_back({std::string(f.name), std::string(f.value)});
      return out;
    };
    std::string answer = gate.refuse({route_.tap_host, route_.source, req_->method_string(),
                                      req_->target().substr(gateway_token_), headers});
    if (answer.empty()) return false;
    worker_.ctx.counters.refused.fetch_add(1, std::memory_order_relaxed);
    keep_alive_ = false;
    send_local_response(std::move(answer));
    return true;
  }

  void on_upstream_connected(std::unique_ptr<UpstreamConnection> conn, UpstreamFailure failure) {
    if (closing_) {
      if (conn) conn->close();
      return;
    }
    if (!failure.ok()) return send_local_error(failure.status, failure.cause, route_.upstream.host, failure.message);
    up_ = std::move(conn);
    send_request_header();
  }

  void send_request_header() {
    up_->expires_after(opts().idle_timeout);
    // Body bytes that arrived with the header go out in the same write: one send, one segment.
    std::size_t n = 0;
    ForwardCursor::Slice s;
    if (client_buf_.size() > 0 && !req_->is_done()) {
      beast::error_code ec;
      n = req_->put(client_buf_.data(), ec);
      if (ec && ec != http::error::need_more) {
        keep_alive_ = false;
        return send_local_error(400, "bad_request", "", "malformed request body: " + ec.message());
      }
      s = req_cursor_.next(n, client_buf_.size(), !req_->is_done());
    }
    auto done = [self = self().shared_from_this(), n, s](beast::error_code ec, std::size_t) {
      self->on_request_header_sent(ec, n, s);
    };
    if (s.size > 0) {
      // Appended, not gathered: a two-buffer write garbled bodies on TLS upstreams in the
      // reliability suite; every write here is one contiguous buffer.
      const char* p = client_data() + s.offset;
      tap(Direction::kClientToServer, p, s.size);
      up_header_.append(p, s.size);
    }
    up_->async_write(net::buffer(up_header_), std::move(done));
  }

  // N, S: request body bytes parsed and forwarded along with the header (see on_body_sent).
  void on_request_header_sent(beast::error_code ec, std::size_t n, ForwardCursor::Slice s) {
    if (closing_) return;
    if (ec && s.size == 0) return send_local_error(502, "upstream_write_failed", route_.upstream.host, ec.message());
    if (ec) {
      // As for a body write: the upstream may have answered already (e.g. 413), so flow B decides.
      upstream_write_failed_ = true;
      keep_alive_ = false;
      request_done_ = true;
      read_response();
      return on_flow_done();
    }
    client_buf_.consume(n);
    req_cursor_.advance(s, n);
    read_response();
    forward_request_body();
  }

  // ---- flow A: request body ----
  void forward_request_body() {
    if (closing_ || request_done_) return;
    if (client_buf_.size() > 0 && !req_->is_done()) {
      beast::error_code ec;
      std::size_t n = req_->put(client_buf_.data(), ec);
      if (ec && ec != http::error::need_more) {
        keep_alive_ = false;
        if (response_started_) return abort();
        return send_local_error(400, "bad_request", "", "malformed request body: " + ec.message());
      }
      // Past a complete message the bytes are the next request: they wait for its routing.
      ForwardCursor::Slice s = req_cursor_.next(n, client_buf_.size(), !req_->is_done());
      if (s.size > 0) {
        const char* p = client_data() + s.offset;
        tap(Direction::kClientToServer, p, s.size);
        up_->expires_after(opts().idle_timeout);
        up_->async_write(net::buffer(p, s.size),
                         [self = self().shared_from_this(), n, s](beast::error_code ec, std::size_t) {
                           self->on_body_sent(ec, n, s);
                         });
        return;
      }
      if (n > 0) return on_body_sent({}, n, s);
    }
    if (req_->is_done()) {
      // Bytes past the message end already went upstream with it: the connection cannot go on.
      if (req_cursor_.ahead() > 0) keep_alive_ = false;
      request_done_ = true;
      if (!response_done_) watch_client();
      return on_flow_done();
    }
    lowest().expires_after(opts().idle_timeout);
    client_read_pending_ = true;
    self().stream().async_read_some(client_buf_.prepare(kReadChunk),
                                    beast::bind_front_handler(&HttpSession::on_body_read, self().shared_from_this()));
  }

  void on_body_read(beast::error_code ec, std::size_t n) {
    client_read_pending_ = false;
    if (closing_) return;
    if (ec) return abort();  // client gone or stalled mid-body
    client_buf_.commit(n);
    forward_request_body();
  }

  // N: bytes the parser consumed (dropped now); S: the slice just forwarded.
  void on_body_sent(beast::error_code ec, std::size_t n, ForwardCursor::Slice s) {
    if (closing_) return;
    if (ec) {
      // The upstream stopped reading; it may still answer (e.g. 413), so flow B decides.
      upstream_write_failed_ = true;
      keep_alive_ = false;
      request_done_ = true;
      return on_flow_done();
    }
    client_buf_.consume(n);
    req_cursor_.advance(s, n);
    forward_request_body();
  }

  // While the response is awaited or streamed, keep a read on the client: a client that gives up
  // (closes) must release the upstream at once, not after the idle timeout. Bytes that arrive are the
  // next pipelined request and stay buffered (up to the header limit, then reading pauses).
  void watch_client() {
    if (client_read_pending_ || closing_ || client_buf_.size() >= opts().max_header_bytes) return;
    client_read_pending_ = true;
    lowest().expires_never();  // the exchange's own timeouts (upstream idle, client writes) still apply
    self().stream().async_read_some(client_buf_.prepare(kReadChunk),
                                    beast::bind_front_handler(&HttpSession::on_client_watch, self().shared_from_this()));
  }

  void on_client_watch(beast::error_code ec, std::size_t n) {
    client_read_pending_ = false;
    if (closing_) return;
    AfterWatch next = std::exchange(after_watch_, AfterWatch::kNone);
    if (ec && !(ec == net::error::operation_aborted && next != AfterWatch::kNone)) {
      spdlog::debug("client went away mid-exchange ({}); closing the upstream connection", ec.message());
      return abort();
    }
    if (!ec) client_buf_.commit(n);
    if (next == AfterWatch::kNextRequest) return read_request();
    if (next == AfterWatch::kClose) return close_client();
    if (next == AfterWatch::kUpgrade) return start_upgraded_relay();
    if (!response_done_) watch_client();
  }

  // Ends the watch read (if any) before the client stream is used for something else.
  void after_client_watch(AfterWatch next) {
    if (!client_read_pending_) {
      if (next == AfterWatch::kUpgrade) return start_upgraded_relay();
      return next == AfterWatch::kNextRequest ? read_request() : close_client();
    }
    after_watch_ = next;
    beast::error_code ec;
    lowest().socket().cancel(ec);
  }

  // ---- flow B: response ----
  void read_response() {
    resp_.emplace(kMaxResponseHeader, resp_fields_);
    resp_cursor_.reset();
    if (req_->method() == http::verb::head) resp_->skip(true);
    parse_response();
  }

  void parse_response() {
    if (closing_) return;
    if (up_->buffer.size() > 0) {
      beast::error_code ec;
      std::size_t n = resp_->put(up_->buffer.data(), ec);
      if (ec && ec != http::error::need_more)
        return send_local_error(502, "bad_upstream_response", route_.upstream.host, ec.message());
      // Bytes past the parser inside an open body (a chunk's closing CRLF) go out now too.
      ForwardCursor::Slice s = resp_cursor_.next(n, up_->buffer.size(), resp_->is_header_done() && !resp_->is_done());
      if (s.size > 0) return forward_response_bytes(n, s);
      if (n > 0 || resp_->is_done()) return on_response_bytes_sent({}, n, s);
    }
    up_->expires_after(opts().idle_timeout);
    up_->async_read_some(up_->buffer.prepare(kReadChunk),
                         beast::bind_front_handler(&HttpSession::on_upstream_read, self().shared_from_this()));
  }

  void on_upstream_read(beast::error_code ec, std::size_t n) {
    if (closing_) return;
    if (ec == net::error::eof || ec == net::ssl::error::stream_truncated) {
      if (resp_->got_some() && resp_->is_header_done() && !resp_->is_done()) {
        beast::error_code eof_ec;
        resp_->put_eof(eof_ec);  // body delimited by the connection close
        if (!eof_ec && resp_->is_done()) {
          upstream_write_failed_ = true;  // not reusable
          keep_alive_ = false;
          return on_response_message_done();
        }
      }
      if (!response_started_)
        return send_local_error(502, "upstream_closed", route_.upstream.host,
                                "upstream closed the connection before a complete response");
      return abort();
    }
    if (ec == beast::error::timeout) {
      if (!response_started_)
        return send_local_error(504, "upstream_timeout", route_.upstream.host, "no response within the idle timeout");
      return abort();
    }
    if (ec) {
      if (!response_started_) return send_local_error(502, "upstream_read_failed", route_.upstream.host, ec.message());
      return abort();
    }
    up_->buffer.commit(n);
    parse_response();
  }

  // N: bytes the parser consumed (dropped once sent); S: the slice of the buffer to send.
  void forward_response_bytes(std::size_t n, ForwardCursor::Slice s) {
    response_started_ = true;
    const char* p = static_cast<const char*>(up_->buffer.data().data()) + s.offset;
    tap(Direction::kServerToClient, p, s.size);
    lowest().expires_after(opts().idle_timeout);
    net::async_write(self().stream(), net::buffer(p, s.size),
                     [self = self().shared_from_this(), n, s](beast::error_code ec, std::size_t) {
                       self->on_response_bytes_sent(ec, n, s);
                     });
  }

  void on_response_bytes_sent(beast::error_code ec, std::size_t n, ForwardCursor::Slice s) {
    if (closing_) return;
    if (ec) return abort();  // client gone
    up_->buffer.consume(n);
    resp_cursor_.advance(s, n);
    if (resp_->is_done()) {
      if (resp_cursor_.ahead() > 0) upstream_write_failed_ = true;  // bytes past the message end: not reusable
      return on_response_message_done();
    }
    parse_response();
  }

  void on_response_message_done() {
    int status = resp_->status();
    if (status >= 100 && status < 200 && status != 101) {  // interim (100 Continue): the final one follows
      read_response();
      return;
    }
    response_done_ = true;
    worker_.ctx.counters.responses[ProxyCounters::status_class(status)].fetch_add(1, std::memory_order_relaxed);
    on_flow_done();
  }

  // ---- exchange end ----
  void on_flow_done() {
    if (closing_) return;
    if (!response_done_) return;
    if (!request_done_) {
      // Early response: the client may still be sending; finish relaying then close.
      keep_alive_ = false;
      return;
    }
    // The upgrade happened upstream: from here on the connection carries the new protocol. A 101 the
    // client did not ask for has nothing to relay and closes, as does one after a failed request write.
    if (resp_->status() == 101 && !upstream_write_failed_ && !req_->field_value("upgrade").empty())
      return after_client_watch(AfterWatch::kUpgrade);
    bool reusable = !upstream_write_failed_ && req_->keep_alive() && resp_->keep_alive() && !resp_->need_eof() &&
                    resp_->status() != 101 && up_->buffer.size() == 0;
    if (reusable) worker_.pool.put(std::move(up_));
    else up_->close();
    up_.reset();
    ++exchanges_;
    keep_alive_ = keep_alive_ && req_->keep_alive() && resp_->keep_alive() && resp_->status() != 101;
    after_client_watch(!keep_alive_ || worker_.stopping ? AfterWatch::kClose : AfterWatch::kNextRequest);
  }

  // The connection is no longer HTTP: hand it to the relay. Bytes the client sent past the request
  // (frames sent right after the 101) are in client_buf_, upstream bytes past the 101 header in
  // up_->buffer; the relay starts with them. Those the cursors already forwarded (and tapped) while
  // a body was open are dropped first, so nothing goes out twice.
  void start_upgraded_relay() {
    closing_ = true;
    ++exchanges_;
    client_buf_.consume(req_cursor_.ahead());
    up_->buffer.consume(resp_cursor_.ahead());
    spdlog::debug("upgraded to {} with {}", req_->field_value("upgrade"), up_->key());
    using ClientStream = std::remove_reference_t<decltype(self().stream())>;
    std::make_shared<UpgradedRelay<ClientStream>>(worker_, std::move(self().stream()), std::move(client_buf_),
                                                  std::move(up_), std::exchange(tap_id_, 0))
        ->run();
  }

  HeaderFields resp_fields_;  // as req_fields_, for resp_
  std::optional<ResponseFraming> resp_;
  ForwardCursor req_cursor_;   // client_buf_ bytes forwarded upstream ahead of req_'s parse
  ForwardCursor resp_cursor_;  // up_->buffer bytes forwarded to the client ahead of resp_'s parse
  std::unique_ptr<UpstreamConnection> up_;
  Route route_;
  std::string up_header_;
  std::string local_response_;
  std::size_t header_len_ = 0;
  std::size_t gateway_token_ = 0;  // length of "/t/TOKEN" at the start of the target, else 0
  std::uint64_t tap_id_ = 0;
  std::uint64_t exchanges_ = 0;
  bool keep_alive_ = true;
  bool waiting_for_request_ = false;
  bool request_done_ = false;
  bool response_done_ = false;
  bool response_started_ = false;
  bool upstream_write_failed_ = false;
  bool client_read_pending_ = false;
  bool header_started_ = false;
  bool tap_local_ = false;  // the next local response is an error the tap records
  bool header_in_buffer_ = false;  // client_buf_ still starts with the request header (header_len_ bytes)
  std::size_t drained_ = 0;        // request body bytes dropped after a local answer
  std::optional<std::chrono::steady_clock::time_point> drain_deadline_;
  std::chrono::steady_clock::time_point header_deadline_;
  AfterWatch after_watch_ = AfterWatch::kNone;
};

}  // namespace llmtap::proxy
