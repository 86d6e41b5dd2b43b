#include "common/key_value_list.h"

#include <cctype>

namespace llmtap {
namespace {

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string url_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> parse_key_value_list(std::string_view text,
                                                                      std::vector<std::string>* bad_keys) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!text.empty()) {
    auto comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    if (trim(item).empty()) continue;
    auto eq = item.find('=');
    std::string key = eq == std::string_view::npos ? "" : trim(url_decode(trim(item.substr(0, eq))));
    if (key.empty()) {
      // Not key=value: report only what precedes '=', the rest may be a secret.
      if (bad_keys) bad_keys->push_back(eq == std::string_view::npos ? "(no '=')" : "(empty key)");
      continue;
    }
    out.emplace_back(key, trim(url_decode(trim(item.substr(eq + 1)))));
  }
  return out;
}

}  // namespace llmtap
