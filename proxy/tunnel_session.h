#pragma once
// Blind TCP tunnel for CONNECT to a host llmtap does not intercept: no decryption, the client talks
// TLS with the real server and sees its certificate. Not tapped.
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <array>
#include <memory>
#include <string>

#include "proxy/proxy_context.h"

namespace llmtap::proxy {

class TunnelSession : public SessionBase, public std::enable_shared_from_this<TunnelSession> {
 public:
  // PUBLIC_ONLY: refuse (403) when HOST resolves to a non-public address (address_policy.h).
  TunnelSession(Worker& w, beast::tcp_stream client, beast::flat_buffer pending, std::string host, std::uint16_t port,
                bool public_only);
  void run();
  void on_server_stop() override;

 private:
  struct Pipe {
    std::array<char, 16 * 1024> buf;
    bool done = false;
  };
  void on_resolved(beast::error_code ec, net::ip::tcp::resolver::results_type results);
  void on_connected(beast::error_code ec);
  void fail(int status, const char* cause, const std::string& message);
  void pump(beast::tcp_stream& from, beast::tcp_stream& to, Pipe& pipe);
  void close_both();

  beast::tcp_stream client_;
  beast::tcp_stream upstream_;
  net::ip::tcp::resolver resolver_;
  beast::flat_buffer pending_;  // client bytes that arrived with the CONNECT
  std::string host_;
  std::uint16_t port_;
  bool public_only_;
  std::string reply_;
  Pipe up_pipe_, down_pipe_;
};

}  // namespace llmtap::proxy
