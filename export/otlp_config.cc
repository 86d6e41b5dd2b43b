#include "export/otlp_config.h"

#include <openssl/evp.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <spdlog/spdlog.h>

#include "common/ascii.h"
#include "common/ids.h"
#include "common/version.h"

namespace llmtap::exporting {
namespace {

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

// Signal-specific variable first (OTEL_EXPORTER_OTLP_TRACES_X), then the generic one.
std::optional<std::string> otlp_var(const EnvLookup& env, std::string_view suffix) {
  for (std::string prefix : {"OTEL_EXPORTER_OTLP_TRACES_", "OTEL_EXPORTER_OTLP_"}) {
    auto v = env(prefix + std::string(suffix));
    if (v && !trim(*v).empty()) return trim(*v);
  }
  return std::nullopt;
}

// RFC 9110 token characters (header field names).
bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (std::isalnum(c)) continue;
    if (std::string_view("!#$%&'*+-.^_`|~").find(ch) == std::string_view::npos) return false;
  }
  return true;
}

// A field value may not carry CR, LF, NUL or other controls (HTAB aside): they would end the header
// line and let the rest be read as headers of our own request.
bool is_safe_field_value(std::string_view s) {
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
  }
  return true;
}

bool is_host_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
}

}  // namespace

EnvLookup process_env() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

std::string ParsedUrl::loggable() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  auto q = target.find('?');
  return scheme + "://" + h + ":" + std::to_string(port) + target.substr(0, q);
}

std::optional<ParsedUrl> parse_url(std::string_view url, std::string* error) {
  ParsedUrl u;
  for (char ch : url) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c == 0x7f) {
      *error = "OTLP endpoint contains a space or control character";
      return std::nullopt;
    }
  }
  auto sep = url.find("://");
  if (sep == std::string_view::npos) {
    *error = "OTLP endpoint must start with http:// or https://";
    return std::nullopt;
  }
  u.scheme = ascii_lower(std::string(url.substr(0, sep)));
  if (u.scheme != "http" && u.scheme != "https") {
    *error = "OTLP endpoint scheme '" + u.scheme + "' is not supported (use http:// or https://)";
    return std::nullopt;
  }
  std::string_view rest = url.substr(sep + 3);
  auto slash = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, slash);
  u.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (u.target.front() == '?') u.target = "/" + u.target;
  if (auto at = authority.rfind('@'); at != std::string_view::npos) authority = authority.substr(at + 1);
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) {
      *error = "OTLP endpoint has an unterminated IPv6 address";
      return std::nullopt;
    }
    u.host = std::string(authority.substr(1, close - 1));
    if (close + 1 < authority.size() && authority[close + 1] == ':') port = authority.substr(close + 2);
  } else {
    auto colon = authority.rfind(':');
    u.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (u.host.empty()) {
    *error = "OTLP endpoint has no host (expected e.g. http://localhost:4318)";
    return std::nullopt;
  }
  bool ipv6 = !authority.empty() && authority.front() == '[';
  for (char c : u.host) {
    if (is_host_char(c) || (ipv6 && (c == ':' || std::isxdigit(static_cast<unsigned char>(c))))) continue;
    *error = "OTLP endpoint has an invalid host '" + u.host + "'";
    return std::nullopt;
  }
  u.port = u.scheme == "https" ? 443 : 80;
  if (!port.empty()) {
    char* end = nullptr;
    std::string p(port);
    long n = std::strtol(p.c_str(), &end, 10);
    if (*end || n <= 0 || n > 65535) {
      *error = "OTLP endpoint has an invalid port '" + p + "'";
      return std::nullopt;
    }
    u.port = static_cast<std::uint16_t>(n);
  }
  return u;
}

std::string OtlpConfig::delivery_policy() const {
  // Headers count: one endpoint can serve several tenants told apart by their auth header. Values
  // are secrets, so only this digest of them is ever written (into spool file names).
  std::string text = endpoint + '\n' + protocol + '\n' + (capture_content ? "content" : "no-content") + '\n';
  for (const auto& [k, v] : headers) text += ascii_lower(k) + ':' + v + '\n';
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(text.data(), text.size(), digest, &len, EVP_sha256(), nullptr) != 1 || len < 8)
    return std::string(16, 'f');
  return to_hex(digest, 8);
}

bool OtlpConfig::enabled_by(const EnvLookup& env) {
  for (const char* name : {"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"})
    if (auto v = env(name); v && !trim(*v).empty()) return true;
  return false;
}

std::optional<OtlpConfig> OtlpConfig::from_env(const EnvLookup& env, std::string* error,
                                               const std::string& process_name, long pid) {
  OtlpConfig c;
  if (auto v = env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"); v && !trim(*v).empty()) {
    c.endpoint = trim(*v);  // signal-specific: used as is
  } else if (auto base = env("OTEL_EXPORTER_OTLP_ENDPOINT"); base && !trim(*base).empty()) {
    std::string b = trim(*base);
    // Checked before the signal path is appended: "http://" + "/v1/traces" would parse as host "v1".
    if (!parse_url(b, error)) {
      *error = "OTEL_EXPORTER_OTLP_ENDPOINT: " + *error;
      return std::nullopt;
    }
    if (b.back() == '/') b.pop_back();
    c.endpoint = b + "/v1/traces";
  }
  if (!parse_url(c.endpoint, error)) return std::nullopt;

  if (auto p = otlp_var(env, "PROTOCOL")) {
    if (*p == "http/json" || *p == "http/protobuf") {
      c.protocol = *p;
    } else {
      spdlog::warn("OTLP protocol '{}' is not supported by llmtap; using http/json", *p);
    }
  }
  std::vector<std::string> bad;
  for (const char* var : {"OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS"}) {
    if (auto h = env(var)) {
      for (auto& header : parse_key_value_list(*h, &bad)) {
        // Decoded already: %0D%0A is caught here as well as a raw line break. Values are secrets,
        // so the error names only the header.
        if (!is_token(header.first)) {
          *error = std::string(var) + ": an entry has an invalid header name (letters, digits and !#$%&'*+-.^_`|~ only)";
          return std::nullopt;
        }
        if (!is_safe_field_value(header.second)) {
          *error = std::string(var) + ": the value of header '" + header.first +
                   "' contains a line break or control character (raw or percent-encoded such as %0D%0A)";
          return std::nullopt;
        }
        std::string name = ascii_lower(header.first);  // later (signal-specific) values win
        std::erase_if(c.headers, [&](const auto& kv) { return ascii_lower(kv.first) == name; });
        c.headers.push_back(std::move(header));
      }
    }
  }
  if (!bad.empty()) spdlog::warn("OTEL_EXPORTER_OTLP_HEADERS: skipped {} malformed entr(ies)", bad.size());
  if (auto z = otlp_var(env, "COMPRESSION")) {
    if (ascii_lower(*z) == "gzip") c.gzip = true;
    else if (ascii_lower(*z) != "none") spdlog::warn("OTLP compression '{}' is not supported; sending uncompressed", *z);
  }
  if (auto ca = otlp_var(env, "CERTIFICATE")) {
    if (::access(ca->c_str(), R_OK) != 0) {
      *error = "OTEL_EXPORTER_OTLP_CERTIFICATE: cannot read " + *ca;
      return std::nullopt;
    }
    c.ca_file = *ca;
  }
  if (auto t = otlp_var(env, "TIMEOUT")) {
    char* end = nullptr;
    long ms = std::strtol(t->c_str(), &end, 10);
    if (*end == 0 && ms > 0) c.timeout = std::chrono::milliseconds(ms);
  }

  // Resource: OTEL_RESOURCE_ATTRIBUTES, then OTEL_SERVICE_NAME wins for service.name.
  std::vector<std::pair<std::string, std::string>> res;
  if (auto r = env("OTEL_RESOURCE_ATTRIBUTES")) res = parse_key_value_list(*r);
  auto set = [&](const std::string& k, AttrValue v) {
    for (auto& a : c.resource.attributes)
      if (a.key == k) { a.value = std::move(v); return; }
    c.resource.attributes.push_back({k, std::move(v)});
  };
  set("service.name", process_name.empty() ? std::string("llmtap") : process_name);
  for (auto& [k, v] : res) set(k, v);
  if (auto s = env("OTEL_SERVICE_NAME"); s && !trim(*s).empty()) set("service.name", trim(*s));
  if (!process_name.empty()) set("process.executable.name", process_name);
  if (pid > 0) set("process.pid", static_cast<std::int64_t>(pid));
  set("telemetry.sdk.name", std::string("llmtap"));
  c.resource.scope_version = LLMTAP_VERSION;
  return c;
}

}  // namespace llmtap::exporting
