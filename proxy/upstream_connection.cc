#include "proxy/upstream_connection.h"

#include <arpa/inet.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <cerrno>

#include "proxy/address_policy.h"

namespace llmtap::proxy {
namespace {

bool is_ip_literal(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

// One connect attempt; owns the resolver and the connection until DONE is called.
struct ConnectOp : std::enable_shared_from_this<ConnectOp> {
  ConnectOp(const net::any_io_executor& ex, const UpstreamTarget& t, net::ssl::context& ctx, ConnectTimeouts to,
            ConnectHandler d)
      : target(t), timeouts(to), done(std::move(d)), resolver(ex),
        conn(std::make_unique<UpstreamConnection>(ex, t, t.tls ? &ctx : nullptr)) {}

  void start() {
    resolver.async_resolve(target.host, std::to_string(target.port),
                           [self = shared_from_this()](beast::error_code ec, net::ip::tcp::resolver::results_type r) {
                             self->on_resolve(ec, std::move(r));
                           });
  }

  void on_resolve(beast::error_code ec, net::ip::tcp::resolver::results_type results) {
    if (ec) return fail(502, "dns_resolution_failed", ec.message());
    // Every answer is checked, not just the first: a rebinding name may mix public and private ones.
    if (target.public_only)
      for (const auto& r : results)
        if (is_non_public_address(r.endpoint().address()))
          return fail(403, "private_upstream_refused", non_public_refusal(target.host, r.endpoint().address()));
    conn->expires_after(timeouts.connect);
    conn->tcp().async_connect(results, [self = shared_from_this()](beast::error_code ec, const auto&) {
      self->on_connect(ec);
    });
  }

  void on_connect(beast::error_code ec) {
    if (ec == beast::error::timeout) return fail(504, "connect_timeout", "no connection within the connect timeout");
    if (ec == net::error::connection_refused) return fail(502, "connection_refused", ec.message());
    if (ec) return fail(502, "connect_failed", ec.message());
    conn->tcp().socket().set_option(net::ip::tcp::no_delay(true), ec);
    auto* tls = conn->tls();
    if (!tls) return finish();
    SSL* ssl = tls->native_handle();
    bool ok;
    if (is_ip_literal(target.host)) {
      ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), target.host.c_str()) == 1;
    } else {
      ok = SSL_set_tlsext_host_name(ssl, target.host.c_str()) == 1 && SSL_set1_host(ssl, target.host.c_str()) == 1;
    }
    if (!ok) return fail(502, "tls_setup_failed", "cannot set the expected upstream name");
    conn->expires_after(timeouts.handshake);
    tls->async_handshake(net::ssl::stream_base::client,
                         [self = shared_from_this()](beast::error_code ec) { self->on_handshake(ec); });
  }

  void on_handshake(beast::error_code ec) {
    if (ec == beast::error::timeout) return fail(504, "tls_handshake_timeout", "no TLS handshake within the timeout");
    if (ec) {
      long verify = SSL_get_verify_result(conn->tls()->native_handle());
      if (verify != X509_V_OK)
        return fail(502, "tls_verification_failed",
                    std::string("upstream certificate rejected: ") + X509_verify_cert_error_string(verify));
      return fail(502, "tls_handshake_failed", ec.message());
    }
    finish();
  }

  void finish() {
    conn->tcp().expires_never();
    done(std::move(conn), UpstreamFailure{});
  }
  void fail(int status, const char* cause, std::string message) {
    conn->close();
    done(nullptr, UpstreamFailure{status, cause, std::move(message)});
  }

  UpstreamTarget target;
  ConnectTimeouts timeouts;
  ConnectHandler done;
  net::ip::tcp::resolver resolver;
  std::unique_ptr<UpstreamConnection> conn;
};

}  // namespace

UpstreamConnection::UpstreamConnection(const net::any_io_executor& ex, const UpstreamTarget& target,
                                       net::ssl::context* tls_ctx)
    : key_(target.pool_key()) {
  if (tls_ctx) tls_.emplace(ex, *tls_ctx);
  else tcp_.emplace(ex);
}

bool UpstreamConnection::looks_alive() {
  auto& sock = tcp().socket();
  if (!sock.is_open()) return false;
  char c;
  ssize_t n = ::recv(sock.native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

void UpstreamConnection::close() {
  beast::error_code ec;
  tcp().socket().shutdown(net::ip::tcp::socket::shutdown_both, ec);
  tcp().close();
}

std::unique_ptr<UpstreamConnection> UpstreamPool::take(const std::string& key) {
  auto it = idle_.find(key);
  if (it == idle_.end()) return nullptr;
  auto& v = it->second;
  auto now = std::chrono::steady_clock::now();
  while (!v.empty()) {
    auto conn = std::move(v.back());
    v.pop_back();
    if (now - conn->idle_since < kMaxIdle && conn->looks_alive()) {
      conn->reused = true;
      return conn;
    }
    conn->close();
  }
  return nullptr;
}

void UpstreamPool::put(std::unique_ptr<UpstreamConnection> conn) {
  auto& v = idle_[conn->key()];
  conn->idle_since = std::chrono::steady_clock::now();
  conn->tcp().expires_never();
  if (v.size() >= max_idle_per_key_) {
    v.front()->close();
    v.erase(v.begin());
  }
  v.push_back(std::move(conn));
}

void UpstreamPool::clear() {
  for (auto& [key, v] : idle_)
    for (auto& c : v) c->close();
  idle_.clear();
}

std::size_t UpstreamPool::idle_count() const {
  std::size_t n = 0;
  for (const auto& [key, v] : idle_) n += v.size();
  return n;
}

void connect_upstream(const net::any_io_executor& ex, const UpstreamTarget& target, net::ssl::context& tls_ctx,
                      ConnectTimeouts timeouts, ConnectHandler done) {
  std::make_shared<ConnectOp>(ex, target, tls_ctx, timeouts, std::move(done))->start();
}

}  // namespace llmtap::proxy
