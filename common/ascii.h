#pragma once
// ASCII case folding for protocol tokens (header names, hosts, model ids, scheme words). Only A-Z
// change: these tokens are ASCII by their specs, and the result must not depend on the locale.
#include <string>
#include <string_view>

namespace llmtap {

inline char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

inline std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = ascii_lower(c);
  return out;
}

// Whether S ends with LOWER_SUFFIX (given in lower case), ignoring the case of S; no copy.
inline bool ascii_iends_with(std::string_view s, std::string_view lower_suffix) {
  if (s.size() < lower_suffix.size()) return false;
  const std::size_t at = s.size() - lower_suffix.size();
  for (std::size_t i = 0; i < lower_suffix.size(); ++i)
    if (ascii_lower(s[at + i]) != lower_suffix[i]) return false;
  return true;
}

}  // namespace llmtap
