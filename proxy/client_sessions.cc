#include "proxy/client_sessions.h"

#include <openssl/ssl.h>

#include "proxy/tunnel_session.h"

namespace llmtap::proxy {

namespace {
constexpr std::chrono::seconds kCloseLinger{2};
}

// ---- plain ----

PlainHttpSession::PlainHttpSession(Worker& w, net::ip::tcp::socket socket)
    : HttpSession(w, beast::flat_buffer()), stream_(std::move(socket)) {
  beast::error_code ec;
  stream_.socket().set_option(net::ip::tcp::no_delay(true), ec);
}

void PlainHttpSession::run() { read_request(); }

void PlainHttpSession::on_connect_request(std::string_view target, std::size_t header_len) {
  std::string host;
  std::uint16_t port = 0;
  if (!split_host_port(target, 443, host, port))
    return send_local_error(400, "bad_request", "", "malformed CONNECT target");
  client_buf_.consume(header_len);
  bool intercept = should_intercept(worker_.ctx.routing, host);
  spdlog::debug("CONNECT {}:{} ({})", host, port, intercept ? "intercept" : "tunnel");
  if (!intercept) {
    closing_ = true;  // the connection now belongs to the tunnel
    std::make_shared<TunnelSession>(worker_, std::move(stream_), std::move(client_buf_), host, port,
                                    !worker_.ctx.routing.allow_private_upstream)
        ->run();
    return;
  }
  connect_reply_ = "HTTP/1.1 200 Connection Established\r\n\r\n";
  stream_.expires_after(opts().idle_timeout);
  net::async_write(stream_, net::buffer(connect_reply_),
                   [self = shared_from_this(), host, port](beast::error_code ec, std::size_t) {
                     self->on_connect_established(ec, true, host, port);
                   });
}

void PlainHttpSession::on_connect_established(beast::error_code ec, bool, std::string host, std::uint16_t port) {
  if (ec || closing_) return abort();
  closing_ = true;
  std::make_shared<TlsHttpSession>(worker_, std::move(stream_), std::move(client_buf_), std::move(host), port)->run();
}

void PlainHttpSession::do_close() {
  // Half-close and drain, so unread request bytes do not turn our close into a reset that could
  // destroy the error response before the client reads it.
  beast::error_code ec;
  stream_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ec);
  stream_.expires_after(kCloseLinger);
  client_buf_.clear();
  stream_.async_read_some(client_buf_.prepare(kReadChunk), [self = shared_from_this()](beast::error_code ec, std::size_t) {
    if (ec) return self->stream_.close();
    self->do_close_drain();
  });
}

void PlainHttpSession::do_close_drain() {
  client_buf_.clear();
  stream_.async_read_some(client_buf_.prepare(kReadChunk), [self = shared_from_this()](beast::error_code ec, std::size_t) {
    if (ec) return self->stream_.close();
    self->do_close_drain();
  });
}

// ---- TLS ----

TlsHttpSession::TlsHttpSession(Worker& w, beast::tcp_stream stream, beast::flat_buffer buffer, std::string host,
                               std::uint16_t port)
    : HttpSession(w, std::move(buffer)),
      stream_(std::move(stream), w.ctx.mitm_tls),
      host_(std::move(host)),
      port_(port) {}

void TlsHttpSession::run() {
  std::string err;
  leaf_ = worker_.ctx.ca->leaf_for(host_, &err);
  SSL* ssl = stream_.native_handle();
  if (!leaf_ || SSL_use_certificate(ssl, leaf_->cert) != 1 || SSL_use_PrivateKey(ssl, leaf_->key) != 1) {
    spdlog::error("no leaf certificate for {}: {}", host_, err);
    return abort();
  }
  SSL_add1_chain_cert(ssl, worker_.ctx.ca->ca_cert());
  lowest().expires_after(opts().handshake_timeout);
  stream_.async_handshake(net::ssl::stream_base::server, client_buf_.data(),
                          beast::bind_front_handler(&TlsHttpSession::on_handshake, shared_from_this()));
}

void TlsHttpSession::on_handshake(beast::error_code ec, std::size_t) {
  client_buf_.clear();  // whatever it held was fed to the handshake
  if (ec) {
    spdlog::info("TLS handshake with the client for {} failed: {} (does the client trust the llmtap CA at {}?)",
                 host_, ec.message(), worker_.ctx.ca->ca_cert_path());
    return abort();
  }
  open_tap(host_, port_, true, "proxy");
  read_request();
}

void TlsHttpSession::on_connect_request(std::string_view, std::size_t) {
  send_local_error(405, "connect_in_tunnel", host_, "CONNECT inside an intercepted tunnel is not supported");
}

void TlsHttpSession::do_close() {
  lowest().expires_after(kCloseLinger);
  stream_.async_shutdown([self = shared_from_this()](beast::error_code) { self->lowest().close(); });
}

}  // namespace llmtap::proxy
