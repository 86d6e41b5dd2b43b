#include "proxy/proxy_server.h"

#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <mutex>
#include <thread>

#include "common/data_dir.h"
#include "common/provider_hosts.h"
#include "proxy/client_sessions.h"
#include "proxy/proxy_auth.h"
#include "proxy/proxy_context.h"
#include "common/thread_priority.h"

namespace llmtap::proxy {

namespace {

// Offer only http/1.1: the proxy speaks HTTP/1.1 on both sides.
int select_http11(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned int inlen,
                  void*) {
  static const unsigned char kProto[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, kProto, sizeof(kProto), in, inlen) == OPENSSL_NPN_NEGOTIATED) {
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

std::string configure_tls(ProxyContext& ctx) {
  using ctxt = net::ssl::context;
  beast::error_code ec;
  auto& up = ctx.upstream_tls;
  up.set_options(ctxt::default_workarounds | ctxt::no_sslv2 | ctxt::no_sslv3 | ctxt::no_tlsv1 | ctxt::no_tlsv1_1);
  up.set_verify_mode(net::ssl::verify_peer);
  up.set_default_verify_paths(ec);
  if (ec) spdlog::warn("cannot load the system CA store: {}", ec.message());
  for (const auto& f : ctx.options.upstream_ca_files) {
    up.load_verify_file(f, ec);
    if (ec) return "--upstream-ca " + f + ": " + ec.message();
  }
  static const unsigned char kAlpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  SSL_CTX_set_alpn_protos(up.native_handle(), kAlpn, sizeof(kAlpn));

  auto& mitm = ctx.mitm_tls;
  mitm.set_options(ctxt::default_workarounds | ctxt::no_sslv2 | ctxt::no_sslv3 | ctxt::no_tlsv1 | ctxt::no_tlsv1_1 |
                   ctxt::single_dh_use);
  SSL_CTX_set_alpn_select_cb(mitm.native_handle(), select_http11, nullptr);
  return "";
}

}  // namespace

class ProxyServer::Impl {
 public:
  Impl(ProxyOptions options, Tap* tap) {
    ctx_.options = std::move(options);
    ctx_.tap = tap;
  }
  ~Impl() { stop(); }

  std::string start(std::string* error) {
    std::lock_guard<std::mutex> lock(mu_);
    auto fail = [&](std::string e) {
      if (error) *error = std::move(e);
      return std::string();
    };
    if (started_) return fail("already started");
    auto& o = ctx_.options;
    if (o.io_threads < 1) o.io_threads = 1;
    std::string err;
    ctx_.ca = o.ca;
    if (!ctx_.ca) {
      ctx_.ca = CertificateAuthority::load_or_create(o.data_dir.empty() ? default_data_dir() : o.data_dir, &err);
      if (!ctx_.ca) return fail("CA: " + err);
    }
    const std::string data_dir = o.data_dir.empty() ? default_data_dir() : o.data_dir;
    if (o.require_auth) {
      ctx_.credential = o.credential;
      if (ctx_.credential.empty()) {
        if (err = load_or_create_credential(data_dir, &ctx_.credential, &credential_path_); !err.empty())
          return fail(err);
      }
    } else {
      spdlog::warn("proxy authentication is off (--no-auth): any local user can send requests through this "
                   "proxy, reach what it reaches and write traces into this store");
    }
    ctx_.routing.allow_private_upstream = o.allow_private_upstream;
    if (o.allow_private_upstream)
      spdlog::warn("--allow-private-upstream: apps may make the proxy reach loopback and private addresses");
    if (err = ctx_.routing.set_overrides(o.upstreams); !err.empty()) return fail(err);
    for (const auto& h : o.intercept_hosts) ctx_.routing.intercept_hosts.insert(canonical_host(h));
    if (err = configure_tls(ctx_); !err.empty()) return fail(err);

    std::string host;
    std::uint16_t port = 0;
    if (!split_host_port(o.listen, 8080, host, port)) return fail("bad --listen address: " + o.listen);
    if (host == "localhost") host = "127.0.0.1";
    beast::error_code ec;
    auto address = net::ip::make_address(host, ec);
    if (ec) return fail("--listen needs an IP address, got " + host);
    if (!address.is_loopback()) {
      if (!o.allow_remote)
        return fail("--listen " + o.listen + " is reachable from other machines; listen on 127.0.0.1, or add "
                    "--allow-remote if that is what you want");
      spdlog::warn("listening on {}: reachable from other machines (--allow-remote){}", o.listen,
                   o.require_auth ? "" : " and without authentication (--no-auth)");
    }

    for (int i = 0; i < o.io_threads; ++i) workers_.push_back(std::make_unique<Worker>(ctx_));
    acceptor_.emplace(workers_[0]->ioc);
    accept_timer_.emplace(workers_[0]->ioc);
    net::ip::tcp::endpoint ep(address, port);
    acceptor_->open(ep.protocol(), ec);
    if (!ec) acceptor_->set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_->bind(ep, ec);
    if (!ec) acceptor_->listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      acceptor_.reset();
      accept_timer_.reset();
      workers_.clear();
      return fail("cannot listen on " + o.listen + ": " + ec.message());
    }
    auto bound = acceptor_->local_endpoint();
    address_ = (bound.address().is_v6() ? "[" + bound.address().to_string() + "]" : bound.address().to_string()) +
               ":" + std::to_string(bound.port());
    do_accept();
    for (auto& w : workers_) {
      guards_.emplace_back(net::make_work_guard(w->ioc));
      threads_.emplace_back([w = w.get()] {
        name_this_thread("llmtap-io");
        w->ioc.run();
      });
    }
    started_ = true;
    spdlog::info("llmtap proxy listening on {} (CA {})", address_, ctx_.ca->ca_cert_path());
    return address_;
  }

  void stop() {
    std::lock_guard<std::mutex> lock(mu_);
    if (!started_ || stopped_) return;
    stopped_ = true;
    net::post(workers_[0]->ioc, [this] {
      beast::error_code ec;
      acceptor_->close(ec);
      accept_timer_->cancel();
    });
    for (auto& w : workers_) {
      net::post(w->ioc, [w = w.get()] {
        w->stopping = true;
        for (auto* s : std::list<SessionBase*>(w->sessions)) s->on_server_stop();
        w->pool.clear();
      });
    }
    auto deadline = std::chrono::steady_clock::now() + ctx_.options.stop_grace;
    while (ctx_.active_sessions.load() > 0 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (ctx_.active_sessions.load() > 0)
      spdlog::warn("stopping with {} connections still open", ctx_.active_sessions.load());
    guards_.clear();
    for (auto& w : workers_) w->ioc.stop();
    for (auto& t : threads_) t.join();
    threads_.clear();
    accept_timer_.reset();
    acceptor_.reset();
    workers_.clear();  // destroys remaining sessions on this thread, after the io threads ended
  }

  std::string address() const {
    std::lock_guard<std::mutex> lock(mu_);
    return address_;
  }
  std::shared_ptr<CertificateAuthority> ca() const { return ctx_.ca; }
  ProxyCountersSnapshot counters() const {
    ProxyCountersSnapshot s;
    const auto& c = ctx_.counters;
    s.connections = c.connections.load(std::memory_order_relaxed);
    s.requests = c.requests.load(std::memory_order_relaxed);
    s.refused = c.refused.load(std::memory_order_relaxed);
    for (std::size_t i = 0; i < s.responses.size(); ++i) {
      s.responses[i] = c.responses[i].load(std::memory_order_relaxed);
      s.local_errors[i] = c.local_errors[i].load(std::memory_order_relaxed);
    }
    s.active_sessions = ctx_.active_sessions.load(std::memory_order_relaxed);
    return s;
  }
  std::string credential() const { return ctx_.credential; }
  std::string credential_path() const { return credential_path_; }

 private:
  void do_accept() {
    Worker& w = *workers_[next_worker_++ % workers_.size()];
    acceptor_->async_accept(w.ioc, [this, &w](beast::error_code ec, net::ip::tcp::socket socket) {
      if (ec == net::error::operation_aborted || !acceptor_->is_open()) return;
      if (ec) return accept_backoff(ec);
      accept_delay_ = std::chrono::milliseconds(0);
      ctx_.counters.connections.fetch_add(1, std::memory_order_relaxed);
      net::post(w.ioc, [&w, s = std::move(socket)]() mutable {
        if (w.stopping) return;
        std::make_shared<PlainHttpSession>(w, std::move(s))->run();
      });
      do_accept();
    });
  }

  // Accept failures (EMFILE at the fd limit) repeat until connections close: retry after a growing
  // pause instead of spinning, and log once per episode.
  void accept_backoff(beast::error_code ec) {
    if (accept_delay_.count() == 0) spdlog::warn("accept failed: {}; retrying with backoff", ec.message());
    accept_delay_ = std::min(std::chrono::milliseconds(1000), std::max(std::chrono::milliseconds(10), accept_delay_ * 2));
    accept_timer_->expires_after(accept_delay_);
    accept_timer_->async_wait([this](beast::error_code wait_ec) {
      if (wait_ec || !acceptor_ || !acceptor_->is_open()) return;
      do_accept();
    });
  }

  mutable std::mutex mu_;
  ProxyContext ctx_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::optional<net::ip::tcp::acceptor> acceptor_;
  std::optional<net::steady_timer> accept_timer_;
  std::chrono::milliseconds accept_delay_{0};
  std::vector<net::executor_work_guard<net::io_context::executor_type>> guards_;
  std::vector<std::thread> threads_;
  std::size_t next_worker_ = 0;
  std::string address_;
  std::string credential_path_;
  bool started_ = false;
  bool stopped_ = false;
};

ProxyServer::ProxyServer(ProxyOptions options, Tap* tap) : impl_(std::make_unique<Impl>(std::move(options), tap)) {}
ProxyServer::~ProxyServer() = default;
std::string ProxyServer::start(std::string* error) { return impl_->start(error); }
void ProxyServer::stop() { impl_->stop(); }
std::string ProxyServer::address() const { return impl_->address(); }
std::shared_ptr<CertificateAuthority> ProxyServer::ca() const { return impl_->ca(); }
std::string ProxyServer::credential() const { return impl_->credential(); }
std::string ProxyServer::credential_path() const { return impl_->credential_path(); }
ProxyCountersSnapshot ProxyServer::counters() const { return impl_->counters(); }

}  // namespace llmtap::proxy
