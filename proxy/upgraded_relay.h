#pragma once
// A connection after `101 Switching Protocols` (WebSocket, or any HTTP/1.1 Upgrade): no longer HTTP,
// so HttpSession hands the client stream and the upstream connection over to an UpgradedRelay, which
// copies bytes both ways until both sides have closed. Templated on the client stream (plain TCP, or
// TLS terminated inside an intercepted tunnel), as HttpSession is on its transport.
//
// - Byte-exact: every read is forwarded as it arrives, in the bytes received; frames (data, ping,
//   pong, close) are never parsed or re-encoded here. The Tap gets the same bytes, in forwarding
//   order, so the capture side can decode them.
// - Back-pressure: one read outstanding per direction, the next one only after its write completed.
//   A peer that stops reading stalls its direction in TCP instead of growing memory (one buffer per
//   direction: kRelayChunk, or the bytes that arrived with the HTTP exchange if more).
// - Close: EOF from one side half-closes the other side (TCP FIN on a plain side, TLS close_notify
//   on a TLS side; OpenSSL drops application data that arrives after its close_notify, so a TLS side
//   ends in both directions then). The relay ends once both directions ended; an error on either
//   side ends it at once.
// - Time: one timer ends the relay after idle_timeout without a byte in either direction, and at
//   upgrade_max_lifetime. Server stop and those limits half-close both sides, give the peers
//   kRelayLinger to close, then close.
#include <openssl/ssl.h>

#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <memory>
#include <type_traits>

#include "common/clock.h"
#include "proxy/proxy_context.h"
#include "proxy/upstream_connection.h"

namespace llmtap::proxy {

// As HttpSession's reads: the relay reuses the session's two buffers, so it allocates nothing more.
inline constexpr std::size_t kRelayChunk = 32 * 1024;
inline constexpr std::chrono::seconds kRelayLinger{2};

using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// Sends close_notify without waiting for the peer's: asio's async_shutdown would also read until the
// peer's close_notify arrives, racing the relay's own read on the stream. Marking the peer's as
// received makes SSL_shutdown (run at once by the initiation) return after queueing ours; the mark
// is undone right after, so the pending read still sees the peer's close_notify as EOF.
template <class Handler>
void send_close_notify(TlsStream& s, Handler&& h) {
  SSL* ssl = s.native_handle();
  int before = SSL_get_shutdown(ssl);
  SSL_set_shutdown(ssl, before | SSL_RECEIVED_SHUTDOWN);
  s.async_shutdown(std::forward<Handler>(h));
  SSL_set_shutdown(ssl, (SSL_get_shutdown(ssl) & ~SSL_RECEIVED_SHUTDOWN) | (before & SSL_RECEIVED_SHUTDOWN));
}

inline bool is_end_of_stream(const beast::error_code& ec) {
  return ec == net::error::eof || ec == net::ssl::error::stream_truncated;
}

template <class ClientStream>
class UpgradedRelay : public SessionBase, public std::enable_shared_from_this<UpgradedRelay<ClientStream>> {
  static constexpr bool kClientTls = std::is_same_v<ClientStream, TlsStream>;
  enum Way : int { kUp = 0, kDown = 1 };  // kUp: client -> upstream; kDown: upstream -> client

 public:
  // CLIENT_PENDING: client bytes that followed the upgrade request; UP->buffer: upstream bytes that
  // followed the 101 header. Both go out first. TAP_ID: the session's Tap connection (0 = none).
  UpgradedRelay(Worker& w, ClientStream client, beast::flat_buffer client_pending,
                std::unique_ptr<UpstreamConnection> up, std::uint64_t tap_id)
      : SessionBase(w), client_(std::move(client)), up_(std::move(up)), timer_(up_->tcp().get_executor()),
        tap_id_(tap_id) {
    pipes_[kUp].buf = std::move(client_pending);
    pipes_[kDown].buf = std::move(up_->buffer);
    pipes_[kUp].dir = Direction::kClientToServer;
    pipes_[kDown].dir = Direction::kServerToClient;
  }
  ~UpgradedRelay() override { close_tap(); }

  void run() {
    beast::get_lowest_layer(client_).expires_never();  // the relay's own timer bounds it
    up_->tcp().expires_never();
    started_ = last_activity_ = std::chrono::steady_clock::now();
    arm_timer();
    for (int w : {kUp, kDown}) {
      if (pipes_[w].buf.size() > 0) forward(w);
      else read(w);
    }
    if (worker_.stopping) begin_close();  // stop() was broadcast before this session registered
  }

  void on_server_stop() override { begin_close(); }

 private:
  struct Pipe {
    beast::flat_buffer buf;
    Direction dir = Direction::kClientToServer;
    bool reading = false;
    bool writing = false;     // a forward write or the half-close of the destination
    bool in_done = false;     // the source ended (EOF)
    bool out_closed = false;  // the destination was half-closed
  };

  std::shared_ptr<UpgradedRelay> self() { return this->shared_from_this(); }
  const ProxyOptions& opts() const { return worker_.ctx.options; }

  void read(int w) {
    Pipe& p = pipes_[w];
    if (done_ || p.in_done || p.reading) return;
    p.reading = true;
    auto h = beast::bind_front_handler(&UpgradedRelay::on_read, self(), w);
    if (w == kUp) client_.async_read_some(p.buf.prepare(kRelayChunk), std::move(h));
    else up_->async_read_some(p.buf.prepare(kRelayChunk), std::move(h));
  }

  void on_read(int w, beast::error_code ec, std::size_t n) {
    Pipe& p = pipes_[w];
    p.reading = false;
    if (done_) return;
    if (ec) {
      if (!is_end_of_stream(ec)) return fail(w == kUp ? "client read" : "upstream read", ec);
      p.in_done = true;
      close_output(w);
      return maybe_finish();
    }
    last_activity_ = std::chrono::steady_clock::now();
    p.buf.commit(n);
    if (p.out_closed) {  // closing: the destination takes no more bytes; read on until the peer closes
      p.buf.clear();
      return read(w);
    }
    forward(w);
  }

  void forward(int w) {
    Pipe& p = pipes_[w];
    if (tap_id_ && worker_.ctx.tap)
      worker_.ctx.tap->data(tap_id_, p.dir,
                            std::string_view(static_cast<const char*>(p.buf.data().data()), p.buf.size()), now_ns());
    p.writing = true;
    auto h = beast::bind_front_handler(&UpgradedRelay::on_written, self(), w);
    if (w == kUp) up_->async_write(p.buf.data(), std::move(h));
    else net::async_write(client_, p.buf.data(), std::move(h));
  }

  void on_written(int w, beast::error_code ec, std::size_t) {
    Pipe& p = pipes_[w];
    p.writing = false;
    if (done_) return;
    if (ec) return fail(w == kUp ? "upstream write" : "client write", ec);
    last_activity_ = std::chrono::steady_clock::now();
    p.buf.clear();
    if (closing_) close_output(w);
    read(w);
  }

  // Half-closes the destination of pipe W once its pending write (if any) is out.
  void close_output(int w) {
    Pipe& p = pipes_[w];
    if (p.out_closed || p.writing) return;
    p.out_closed = true;
    TlsStream* tls = nullptr;
    if (w == kUp) tls = up_->tls();
    else if constexpr (kClientTls) tls = &client_;
    if (!tls) {
      beast::error_code ignored;
      auto& sock = w == kUp ? up_->tcp().socket() : beast::get_lowest_layer(client_).socket();
      sock.shutdown(net::ip::tcp::socket::shutdown_send, ignored);
      return;
    }
    p.writing = true;
    send_close_notify(*tls, [self = self(), w](beast::error_code) {
      self->pipes_[w].writing = false;
      self->maybe_finish();
    });
  }

  void maybe_finish() {
    if (done_) return;
    for (const Pipe& p : pipes_)
      if (!p.in_done || !p.out_closed || p.writing) return;
    finish();
  }

  // Server stop, idle timeout or lifetime: half-close both sides, let the peers close (kRelayLinger).
  void begin_close() {
    if (done_ || closing_) return;
    closing_ = true;
    close_output(kUp);
    close_output(kDown);
    linger_ = true;
    timer_.expires_after(kRelayLinger);
    timer_.async_wait([self = self()](beast::error_code ec) {
      if (!ec) self->finish();
    });
  }

  void arm_timer() {
    auto deadline = last_activity_ + opts().idle_timeout;
    if (opts().upgrade_max_lifetime.count() > 0) deadline = std::min(deadline, started_ + opts().upgrade_max_lifetime);
    timer_.expires_at(deadline);
    timer_.async_wait([self = self()](beast::error_code ec) {
      if (ec || self->done_ || self->linger_) return;
      auto now = std::chrono::steady_clock::now();
      const auto& o = self->opts();
      bool expired = o.upgrade_max_lifetime.count() > 0 && now >= self->started_ + o.upgrade_max_lifetime;
      bool idle = now >= self->last_activity_ + o.idle_timeout;
      if (!expired && !idle) return self->arm_timer();
      spdlog::info("closing upgraded connection to {}: {}", self->up_->key(),
                   expired ? "maximum lifetime reached" : "idle timeout");
      self->begin_close();
    });
  }

  void fail(const char* what, const beast::error_code& ec) {
    if (ec != net::error::operation_aborted)
      spdlog::debug("upgraded connection to {} ended: {}: {}", up_->key(), what, ec.message());
    finish();
  }

  void finish() {
    if (done_) return;
    done_ = true;
    timer_.cancel();
    beast::error_code ignored;
    auto& c = beast::get_lowest_layer(client_);
    c.socket().shutdown(net::ip::tcp::socket::shutdown_both, ignored);
    c.close();
    up_->close();
    close_tap();
  }

  void close_tap() {
    if (tap_id_ && worker_.ctx.tap) worker_.ctx.tap->close(tap_id_, now_ns());
    tap_id_ = 0;
  }

  ClientStream client_;
  std::unique_ptr<UpstreamConnection> up_;
  net::steady_timer timer_;
  std::array<Pipe, 2> pipes_;
  std::uint64_t tap_id_;
  std::chrono::steady_clock::time_point started_, last_activity_;
  bool closing_ = false;  // begin_close() ran: no more bytes forwarded after pending writes
  bool linger_ = false;
  bool done_ = false;
};

}  // namespace llmtap::proxy
