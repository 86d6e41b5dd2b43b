#include "parsers/header_filter.h"

#include <algorithm>

#include "common/ascii.h"

namespace llmtap {

namespace {

// is_credential_header() of a name already in lower case.
bool is_credential_lower(std::string_view n) {
  if (n == "cookie" || n == "set-cookie" || n == "authorization" || n == "proxy-authorization") return true;
  for (std::string_view w : {"key", "token", "secret", "auth", "cookie", "password"}) {
    if (n.find(w) != std::string_view::npos) return true;
  }
  return false;
}

}  // namespace

bool is_credential_header(std::string_view name) { return is_credential_lower(ascii_lower(name)); }

bool is_secret_header(std::string_view name) {
  const std::string n = ascii_lower(name);  // once for both tests (every request header passes here)
  return is_credential_lower(n) || n.find("session") != std::string::npos;
}

Headers without_secrets(const Headers& headers) {
  Headers out;
  for (const auto& h : headers) {
    if (!is_secret_header(h.name)) out.push_back(h);
  }
  return out;
}

bool iequals_ascii(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  return true;
}

bool header_has_token(const Headers& headers, std::string_view name, std::string_view token) {
  for (const auto& h : headers) {
    if (!iequals_ascii(h.name, name)) continue;
    std::string_view v = h.value;
    for (std::size_t start = 0; start <= v.size();) {
      std::size_t end = std::min(v.find(',', start), v.size());
      std::string_view t = v.substr(start, end - start);
      while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
      while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
      if (iequals_ascii(t, token)) return true;
      start = end + 1;
    }
  }
  return false;
}

std::string header_value(const Headers& headers, std::string_view name) {
  std::string n = ascii_lower(name);
  for (const auto& h : headers) {
    if (h.name.size() == n.size() && ascii_lower(h.name) == n) return h.value;
  }
  return {};
}

}  // namespace llmtap
