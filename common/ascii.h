#pragma once
// ASCII case folding for protocol tokens (header names, hosts, model ids, scheme words). Only A-Z
// change: these tokens are ASCII by their specs, and the result must not depend on the locale.
#include <string>
#include <string_view>

namespace llmtap {

inline std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

}  // namespace llmtap
