#include "parsers/header_filter.h"

#include <cctype>

namespace llmtap {
namespace {
std::string lower(std::string_view s) {
  std::string r(s);
  for (auto& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}
}  // namespace

bool is_credential_header(std::string_view name) {
  std::string n = lower(name);
  if (n == "cookie" || n == "set-cookie" || n == "authorization" || n == "proxy-authorization") return true;
  for (std::string_view w : {"key", "token", "secret", "auth", "cookie", "password"}) {
    if (n.find(w) != std::string::npos) return true;
  }
  return false;
}

bool is_secret_header(std::string_view name) {
  return is_credential_header(name) || lower(name).find("session") != std::string::npos;
}

Headers without_secrets(const Headers& headers) {
  Headers out;
  for (const auto& h : headers) {
    if (!is_secret_header(h.name)) out.push_back(h);
  }
  return out;
}

std::string header_value(const Headers& headers, std::string_view name) {
  std::string n = lower(name);
  for (const auto& h : headers) {
    if (h.name.size() == n.size() && lower(h.name) == n) return h.value;
  }
  return {};
}

}  // namespace llmtap
