#include "proxy/request_routing.h"

#include <charconv>

#include "common/ascii.h"
#include "common/gateway_route.h"
#include "common/provider_hosts.h"

namespace llmtap::proxy {

std::string UpstreamTarget::authority() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if ((tls && port == 443) || (!tls && port == 80)) return h;
  return h + ":" + std::to_string(port);
}

std::string UpstreamTarget::pool_key() const {
  // Connections made without the address check must not serve requests that need it.
  return (tls ? "https://" : "http://") + host + ":" + std::to_string(port) + (public_only ? "" : "+any");
}

bool split_host_port(std::string_view authority, std::uint16_t default_port, std::string& host, std::uint16_t& port) {
  std::string_view h = authority, p;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return false;
    h = authority.substr(1, close - 1);
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return false;
      p = rest.substr(1);
    }
  } else if (auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    if (authority.find(':') != colon) return false;  // bare IPv6 without brackets is ambiguous
    h = authority.substr(0, colon);
    p = authority.substr(colon + 1);
  }
  if (h.empty()) return false;
  for (char c : h)
    if (c == '/' || c == ' ' || c == '@' || c == '\\' || static_cast<unsigned char>(c) < 0x21) return false;
  port = default_port;
  if (!p.empty() || (authority.back() == ':')) {
    unsigned v = 0;
    auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
    if (ec != std::errc() || ptr != p.data() + p.size() || v > 65535) return false;
    port = static_cast<std::uint16_t>(v);
  }
  host = canonical_host(h);  // lowercase, no trailing dot: one spelling per host for every decision
  return true;
}

std::string parse_upstream_url(std::string_view url, UpstreamTarget& out) {
  std::string_view rest;
  if (url.substr(0, 8) == "https://") {
    out.tls = true;
    rest = url.substr(8);
  } else if (url.substr(0, 7) == "http://") {
    out.tls = false;
    rest = url.substr(7);
  } else {
    return "upstream URL must start with https:// or http://: " + std::string(url);
  }
  auto slash = rest.find('/');
  std::string_view auth = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  if (!split_host_port(auth, out.tls ? 443 : 80, out.host, out.port)) return "bad host in upstream URL: " + std::string(url);
  if (path.find_first_of("?#") != std::string_view::npos) return "upstream URL may not carry a query: " + std::string(url);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  out.path_prefix = std::string(path);
  return "";
}

std::string RoutingConfig::set_overrides(const std::map<std::string, std::string>& name_to_url) {
  for (const auto& [name, url] : name_to_url) {
    UpstreamTarget t;
    if (std::string e = parse_upstream_url(url, t); !e.empty()) return "--upstream " + name + ": " + e;
    overrides[ascii_lower(name)] = t;
  }
  return "";
}

bool should_intercept(const RoutingConfig& cfg, std::string_view host) {
  std::string h = canonical_host(host);
  return !provider_for_host(h).empty() || cfg.intercept_hosts.count(h) > 0;
}

namespace {

Route error_route(int status, const char* cause, std::string message) {
  Route r;
  r.error_status = status;
  r.error_cause = cause;
  r.error_message = std::move(message);
  return r;
}

std::string join_path(const std::string& prefix, std::string_view path) {
  if (path.empty() || path.front() != '/') return prefix + "/" + std::string(path);
  return prefix + std::string(path);
}

}  // namespace

Route route_plain_request(const RoutingConfig& cfg, std::string_view target) {
  Route r;
  if (target.substr(0, 7) == "http://") {
    std::string_view rest = target.substr(7);
    auto slash = rest.find_first_of("/?");
    std::string_view auth = rest.substr(0, slash);
    std::string_view path = slash == std::string_view::npos ? std::string_view("/") : rest.substr(slash);
    if (auto at = auth.find('@'); at != std::string_view::npos) auth = auth.substr(at + 1);  // drop userinfo
    if (!split_host_port(auth, 80, r.upstream.host, r.upstream.port))
      return error_route(400, "bad_request", "malformed absolute-form target");
    r.upstream.tls = false;
    r.upstream.public_only = !cfg.allow_private_upstream;
    r.upstream_path = path.front() == '?' ? "/" + std::string(path) : std::string(path);
    r.tap_host = r.upstream.host;
    r.tap_port = r.upstream.port;
    r.source = "proxy";
    r.ok = true;
    return r;
  }
  if (target.substr(0, 8) == "https://")
    return error_route(400, "bad_request", "https:// targets need CONNECT (set HTTPS_PROXY)");
  if (target.empty() || target.front() != '/') return error_route(400, "bad_request", "unsupported request target");
  std::string_view rest = target.substr(1);
  auto end = rest.find_first_of("/?");
  std::string name = ascii_lower(rest.substr(0, end));
  std::string_view path = end == std::string_view::npos ? std::string_view("/") : rest.substr(end);
  if (auto it = cfg.overrides.find(name); it != cfg.overrides.end()) {
    r.upstream = it->second;
  } else if (std::string host = default_host_for_provider(name); !host.empty()) {
    r.upstream.tls = true;
    r.upstream.host = host;
    r.upstream.port = 443;
  } else {
    return error_route(404, "unknown_route",
                       "no gateway route for this path; use /openai/..., /anthropic/... or /gemini/...");
  }
  // The API path with its version segment, whichever way the SDK joined it to the base URL.
  const auto q = path.find('?');
  std::string api_path = gateway_api_path(name, path.front() == '?' ? std::string_view("/") : path.substr(0, q),
                                          r.upstream.path_prefix);
  if (q != std::string_view::npos) api_path.append(path.substr(q));
  r.upstream_path = join_path(r.upstream.path_prefix, api_path);
  r.rewrite_host = true;
  r.source = "gateway";
  std::string real = default_host_for_provider(name);
  r.tap_host = real.empty() ? r.upstream.host : real;
  r.tap_port = real.empty() ? r.upstream.port : 443;
  r.ok = true;
  return r;
}

Route route_intercepted_request(const RoutingConfig& cfg, const std::string& host, std::uint16_t port,
                                std::string_view target) {
  Route r;
  if (target.empty() || target.front() != '/') {
    // Absolute-form inside the tunnel is legal HTTP; keep only its path.
    auto scheme = target.find("://");
    if (scheme == std::string_view::npos) return error_route(400, "bad_request", "unsupported request target");
    auto slash = target.find('/', scheme + 3);
    target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
  }
  std::string provider = provider_for_host(host);
  if (auto it = cfg.overrides.find(provider); !provider.empty() && it != cfg.overrides.end()) {
    r.upstream = it->second;
    r.rewrite_host = true;
  } else {
    r.upstream.tls = true;
    r.upstream.host = host;
    r.upstream.port = port;
    r.upstream.public_only = !cfg.allow_private_upstream;
  }
  r.upstream_path = join_path(r.upstream.path_prefix, target);
  r.source = "proxy";
  r.tap_host = host;
  r.tap_port = port;
  r.ok = true;
  return r;
}

void build_upstream_request_header(const RequestFraming& req, const Route& route, std::string& out) {
  out.append(req.method_string());
  out.push_back(' ');
  out.append(route.upstream_path);
  out.append(req.version() == 10 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n");
  bool have_host = false;
  for (const auto& f : req.fields()) {
    if (RequestFraming::iequals(f.name, "proxy-connection") || RequestFraming::iequals(f.name, "proxy-authorization"))
      continue;
    out.append(f.name);
    out.append(": ");
    if (RequestFraming::iequals(f.name, "host")) {
      have_host = true;
      out.append(route.rewrite_host ? route.upstream.authority() : f.value);
    } else {
      out.append(f.value);
    }
    out.append("\r\n");
  }
  if (!have_host) {
    out.append("Host: ");
    out.append(route.upstream.authority());
    out.append("\r\n");
  }
  out.append("\r\n");
}

}  // namespace llmtap::proxy
