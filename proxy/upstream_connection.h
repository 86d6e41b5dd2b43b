#pragma once
// Connections from the proxy to upstream servers: plain TCP or verified TLS (system store + extra CAs,
// hostname checked, SNI, ALPN http/1.1), a per-worker keep-alive pool, and the async connect with
// failures classified for the client's 502/504.
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "proxy/request_routing.h"

namespace llmtap::proxy {

namespace beast = boost::beast;
namespace net = boost::asio;

struct UpstreamFailure {
  int status = 0;       // 502, 504 or 403 (private_upstream_refused); 0 = no failure
  std::string cause;    // machine-readable: connection_refused, tls_verification_failed, ...
  std::string message;  // human-readable detail
  bool ok() const { return status == 0; }
};

class UpstreamConnection {
 public:
  using TlsStream = beast::ssl_stream<beast::tcp_stream>;
  UpstreamConnection(const net::any_io_executor& ex, const UpstreamTarget& target, net::ssl::context* tls_ctx);

  beast::tcp_stream& tcp() { return tls_ ? beast::get_lowest_layer(*tls_) : *tcp_; }
  TlsStream* tls() { return tls_ ? &*tls_ : nullptr; }
  const std::string& key() const { return key_; }
  void expires_after(std::chrono::milliseconds d) { tcp().expires_after(d); }
  // Whether a pooled idle connection is still usable: no EOF and no unexpected bytes pending.
  bool looks_alive();
  void close();

  template <class Buffers, class Handler>
  void async_read_some(const Buffers& b, Handler&& h) {
    if (tls_) tls_->async_read_some(b, std::forward<Handler>(h));
    else tcp_->async_read_some(b, std::forward<Handler>(h));
  }
  template <class Buffers, class Handler>
  void async_write(const Buffers& b, Handler&& h) {
    if (tls_) net::async_write(*tls_, b, std::forward<Handler>(h));
    else net::async_write(*tcp_, b, std::forward<Handler>(h));
  }

  beast::flat_buffer buffer;  // upstream -> client bytes not yet forwarded
  std::chrono::steady_clock::time_point idle_since;
  bool reused = false;

 private:
  std::string key_;
  std::optional<beast::tcp_stream> tcp_;
  std::optional<TlsStream> tls_;
};

class UpstreamPool {
 public:
  explicit UpstreamPool(std::size_t max_idle_per_key) : max_idle_per_key_(max_idle_per_key) {}
  std::unique_ptr<UpstreamConnection> take(const std::string& key);
  void put(std::unique_ptr<UpstreamConnection> conn);
  void clear();
  std::size_t idle_count() const;

 private:
  static constexpr std::chrono::seconds kMaxIdle{30};  // below common server keep-alive timeouts
  std::size_t max_idle_per_key_;
  std::unordered_map<std::string, std::vector<std::unique_ptr<UpstreamConnection>>> idle_;
};

struct ConnectTimeouts {
  std::chrono::milliseconds connect;
  std::chrono::milliseconds handshake;
};

using ConnectHandler = std::function<void(std::unique_ptr<UpstreamConnection>, UpstreamFailure)>;

// Resolves, connects and (for TLS targets) handshakes with verification. Calls DONE exactly once.
void connect_upstream(const net::any_io_executor& ex, const UpstreamTarget& target, net::ssl::context& tls_ctx,
                      ConnectTimeouts timeouts, ConnectHandler done);

}  // namespace llmtap::proxy
