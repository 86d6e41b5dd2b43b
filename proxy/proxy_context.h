#pragma once
// State shared by the proxy's sessions. ProxyContext is read-only after start (plus atomics); each
// Worker is one io_context run by one thread, with its own upstream pool and session list, so the
// forwarding path takes no locks.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <list>
#include <memory>

#include "collector/tap.h"
#include "proxy/certificate_authority.h"
#include "proxy/proxy_server.h"
#include "proxy/request_routing.h"
#include "proxy/timer_anchor.h"
#include "proxy/upstream_connection.h"

namespace llmtap::proxy {

namespace net = boost::asio;

struct ProxyContext {
  ProxyOptions options;
  RoutingConfig routing;
  std::shared_ptr<CertificateAuthority> ca;
  net::ssl::context upstream_tls{net::ssl::context::tls_client};  // verifying client side
  net::ssl::context mitm_tls{net::ssl::context::tls_server};      // leaf set per connection
  Tap* tap = nullptr;
  std::string credential;  // required from clients on the proxy port; "" = --no-auth
  std::atomic<std::uint64_t> next_conn_id{1};
  std::atomic<int> active_sessions{0};
  ProxyCounters counters;
};

class SessionBase;

struct Worker {
  explicit Worker(ProxyContext& c) : ctx(c), pool(c.options.max_idle_upstream_per_host) {}
  ProxyContext& ctx;
  // Declared before ioc: sessions still owned by pending handlers unregister while ioc is destroyed.
  std::list<SessionBase*> sessions;  // touched only on this worker's thread
  bool stopping = false;
  net::io_context ioc{1};
  TimerAnchor timer_anchor{ioc};  // spares the per-operation timeouts a system call each
  UpstreamPool pool;  // after ioc: its sockets go first
};

// Every client-facing session registers with its worker so stop() can reach it.
class SessionBase {
 public:
  explicit SessionBase(Worker& w) : worker_(w) {
    pos_ = worker_.sessions.insert(worker_.sessions.end(), this);
    worker_.ctx.active_sessions.fetch_add(1, std::memory_order_relaxed);
  }
  virtual ~SessionBase() {
    worker_.sessions.erase(pos_);
    worker_.ctx.active_sessions.fetch_sub(1, std::memory_order_relaxed);
  }
  SessionBase(const SessionBase&) = delete;
  SessionBase& operator=(const SessionBase&) = delete;
  // The server is stopping: close if idle, else finish the current exchange and close.
  virtual void on_server_stop() = 0;

 protected:
  Worker& worker_;

 private:
  std::list<SessionBase*>::iterator pos_;
};

}  // namespace llmtap::proxy
