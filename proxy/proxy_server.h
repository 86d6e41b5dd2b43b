#pragma once
// The llmtap proxy: one port serving forward-proxy CONNECT (TLS interception for provider hosts, blind
// tunnels for everything else), absolute-form plain-HTTP proxy requests and gateway routes
// (/openai/..., /anthropic/..., /gemini/...). Intercepted plaintext goes to a Tap.
#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "collector/tap.h"
#include "proxy/certificate_authority.h"
#include "proxy/proxy_counters.h"
#include "proxy/request_gate.h"

namespace llmtap::proxy {

struct ProxyOptions {
  std::string listen = "127.0.0.1:8080";            // host:port; port 0 picks a free one
  std::map<std::string, std::string> upstreams;     // provider NAME -> URL (https://host[:port][/prefix] or http://)
  std::vector<std::string> upstream_ca_files;       // trusted for upstream TLS on top of the system store
  std::vector<std::string> intercept_hosts;         // extra hosts whose CONNECT tunnels are intercepted
  std::string data_dir;                             // holds the CA; default_data_dir() when empty
  std::shared_ptr<CertificateAuthority> ca;         // use this CA instead of loading one from data_dir
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds handshake_timeout{10000};
  std::chrono::milliseconds header_read_timeout{30000};  // a client's request header, once started
  std::chrono::milliseconds idle_timeout{300000};        // no progress mid-exchange (models may think long), keep-alive
  std::chrono::milliseconds stop_grace{8000};            // stop(): how long in-flight exchanges may take
  // Upgraded connections (WebSocket after 101) end after idle_timeout without a byte either way, and
  // at this age at the latest; 0 = no age limit.
  std::chrono::milliseconds upgrade_max_lifetime{std::chrono::hours(24)};
  int io_threads = 2;
  std::size_t max_header_bytes = 64 * 1024;              // larger request headers get 431
  std::size_t max_idle_upstream_per_host = 32;           // pooled keep-alive upstream connections per worker
  // Access (proxy_auth.h): clients must present the credential unless require_auth is false
  // (--no-auth). An empty credential is loaded from (or created in) data_dir at start().
  bool require_auth = true;
  std::string credential;
  bool allow_remote = false;            // --allow-remote: listen on a non-loopback address
  bool allow_private_upstream = false;  // --allow-private-upstream: apps may target private addresses
  // Asked before each routed request is forwarded (--enforce-budgets); null: forward everything.
  std::shared_ptr<const RequestGate> gate;
};

class ProxyServer {
 public:
  // TAP may be null; it must outlive the server.
  ProxyServer(ProxyOptions options, Tap* tap);
  ~ProxyServer();  // stops
  ProxyServer(const ProxyServer&) = delete;
  ProxyServer& operator=(const ProxyServer&) = delete;

  // Loads/creates the CA, binds, starts the io threads. Returns the bound "host:port", or "" and sets *error.
  std::string start(std::string* error);
  // Graceful and thread-safe: stop accepting, let in-flight exchanges finish (bounded by stop_grace),
  // close everything, join threads. Idempotent.
  void stop();

  std::string address() const;
  // The CA in use (valid after a successful start()).
  std::shared_ptr<CertificateAuthority> ca() const;
  // The credential clients must present ("" with require_auth off) and the file holding it ("" when
  // it was passed in ProxyOptions). Valid after a successful start().
  std::string credential() const;
  std::string credential_path() const;
  // The proxy's request counters so far (thread-safe).
  ProxyCountersSnapshot counters() const;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace llmtap::proxy
