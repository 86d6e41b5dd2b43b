#pragma once
// The two client transports of HttpSession: plain TCP on the proxy port (gateway routes,
// absolute-form requests, CONNECT) and TLS terminated with a per-host leaf inside an intercepted
// CONNECT tunnel.
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <memory>

#include "proxy/http_session.h"

namespace llmtap::proxy {

class PlainHttpSession : public HttpSession<PlainHttpSession>, public std::enable_shared_from_this<PlainHttpSession> {
 public:
  static constexpr bool kAuthenticates = true;  // the proxy port: every request shows the credential
  PlainHttpSession(Worker& w, net::ip::tcp::socket socket);
  void run();

  beast::tcp_stream& stream() { return stream_; }
  Route route(std::string_view target) { return route_plain_request(worker_.ctx.routing, target); }
  void on_routed(const Route& r) { open_tap(r.tap_host, r.tap_port, false, r.source); }
  void on_connect_request(std::string_view target, std::size_t header_len);
  void do_close();

 private:
  void on_connect_established(beast::error_code ec, bool intercept, std::string host, std::uint16_t port);
  void do_close_drain();
  beast::tcp_stream stream_;
  std::string connect_reply_;
};

class TlsHttpSession : public HttpSession<TlsHttpSession>, public std::enable_shared_from_this<TlsHttpSession> {
 public:
  static constexpr bool kAuthenticates = false;  // inside a tunnel whose CONNECT was authenticated
  // STREAM is the client's TCP connection right after "200 Connection Established"; BUFFER holds
  // any bytes it already sent (the start of its ClientHello).
  TlsHttpSession(Worker& w, beast::tcp_stream stream, beast::flat_buffer buffer, std::string host, std::uint16_t port);
  void run();

  beast::ssl_stream<beast::tcp_stream>& stream() { return stream_; }
  Route route(std::string_view target) {
    return route_intercepted_request(worker_.ctx.routing, host_, port_, target);
  }
  void on_routed(const Route&) {}
  void on_connect_request(std::string_view, std::size_t);
  void do_close();

 private:
  void on_handshake(beast::error_code ec, std::size_t used);
  beast::ssl_stream<beast::tcp_stream> stream_;
  std::string host_;
  std::uint16_t port_;
  std::shared_ptr<const LeafCertificate> leaf_;
};

}  // namespace llmtap::proxy
