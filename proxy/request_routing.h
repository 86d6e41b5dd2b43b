#pragma once
// Where a request goes (sans-IO): gateway routes (/openai/..., /anthropic/..., /gemini/...),
// absolute-form proxy requests, and requests inside an intercepted CONNECT tunnel; and how the request
// header is rewritten for the upstream. Bodies are never touched.
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include "proxy/http_framing.h"

namespace llmtap::proxy {

struct UpstreamTarget {
  bool tls = true;
  std::string host;          // without IPv6 brackets
  std::uint16_t port = 443;
  std::string path_prefix;   // "" or "/prefix" (no trailing slash), prepended to every request path
  bool public_only = false;  // chosen by the app: refuse non-public addresses (address_policy.h)
  std::string authority() const;  // Host header value: host[:port], port omitted when default
  std::string pool_key() const;   // identity of interchangeable upstream connections
};

// "https://host[:port][/prefix]" or "http://..." -> target. Returns "" or an error message.
std::string parse_upstream_url(std::string_view url, UpstreamTarget& out);
// "host:port", "[v6]:port" or "host" (DEFAULT_PORT). Returns false when malformed.
bool split_host_port(std::string_view authority, std::uint16_t default_port, std::string& host, std::uint16_t& port);

struct RoutingConfig {
  std::map<std::string, UpstreamTarget> overrides;  // provider name -> upstream (from --upstream NAME=URL)
  std::set<std::string> intercept_hosts;            // lowercase, from --intercept-host
  bool allow_private_upstream = false;              // app-chosen targets may be private addresses
  // Builds from NAME=URL strings. Returns "" or an error message.
  std::string set_overrides(const std::map<std::string, std::string>& name_to_url);
};

// CONNECT to HOST: terminate TLS (true) or blind-tunnel (false).
bool should_intercept(const RoutingConfig& cfg, std::string_view host);

struct Route {
  bool ok = false;
  UpstreamTarget upstream;
  std::string upstream_path;     // origin-form target sent upstream
  bool rewrite_host = false;     // replace Host with upstream.authority()
  const char* source = "proxy";  // for the Tap: "gateway" or "proxy"
  std::string tap_host;          // host the client meant
  std::uint16_t tap_port = 0;
  int error_status = 0;          // when !ok: status, cause and message of the local error response
  std::string error_cause;
  std::string error_message;
};

// A request read from the proxy port in plain HTTP: gateway route or absolute-form target.
Route route_plain_request(const RoutingConfig& cfg, std::string_view target);
// A request inside an intercepted tunnel to HOST:PORT (origin-form target).
Route route_intercepted_request(const RoutingConfig& cfg, const std::string& host, std::uint16_t port,
                                std::string_view target);

// Request line + header fields for the upstream: target replaced by ROUTE's path, Host rewritten when
// asked, proxy-only fields dropped. Appends to OUT (reused across requests to avoid allocations).
void build_upstream_request_header(const RequestFraming& req, const Route& route, std::string& out);

}  // namespace llmtap::proxy
