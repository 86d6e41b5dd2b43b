#include "common/terminal_text.h"

#include <cstdint>
#include <memory>

#include <spdlog/pattern_formatter.h>

namespace llmtap {
namespace {

// Length of the well-formed UTF-8 sequence at s[i] and its code point; 0 when ill-formed.
std::size_t utf8_sequence(std::string_view s, std::size_t i, char32_t* cp) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  }
  std::size_t len;
  char32_t min;
  if ((b0 & 0xE0) == 0xC0) len = 2, min = 0x80, *cp = b0 & 0x1F;
  else if ((b0 & 0xF0) == 0xE0) len = 3, min = 0x800, *cp = b0 & 0x0F;
  else if ((b0 & 0xF8) == 0xF0) len = 4, min = 0x10000, *cp = b0 & 0x07;
  else return 0;
  if (s.size() - i < len) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    *cp = (*cp << 6) | (b & 0x3F);
  }
  if (*cp < min || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF)) return 0;  // overlong, surrogate
  return len;
}

bool must_escape(char32_t cp) {
  return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x061C || cp == 0x200E || cp == 0x200F ||
         (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

constexpr char kHex[] = "0123456789abcdef";

// %v with terminal_safe applied.
class SafePayloadFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    std::string_view payload(msg.payload.data(), msg.payload.size());
    if (is_terminal_safe(payload)) {
      dest.append(payload.data(), payload.data() + payload.size());
      return;
    }
    std::string safe = terminal_safe(payload);
    dest.append(safe.data(), safe.data() + safe.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<SafePayloadFlag>(); }
};

}  // namespace

bool is_terminal_safe(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b >= 0x20 && b < 0x7F) {
      ++i;
      continue;
    }
    char32_t cp;
    std::size_t n = utf8_sequence(s, i, &cp);
    if (n == 0 || must_escape(cp)) return false;
    i += n;
  }
  return true;
}

namespace {
std::string escape(std::string_view s, bool keep_c0) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    char32_t cp;
    std::size_t n = utf8_sequence(s, i, &cp);
    if (n == 0) {
      const auto b = static_cast<unsigned char>(s[i]);
      out += "\\x";
      out += kHex[b >> 4];
      out += kHex[b & 0xF];
      ++i;
      continue;
    }
    if (must_escape(cp) && !(keep_c0 && cp < 0x20)) {
      out += "\\u";
      for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(cp >> shift) & 0xF];
    } else {
      out.append(s.substr(i, n));
    }
    i += n;
  }
  return out;
}
}  // namespace

std::string terminal_safe(std::string_view s) { return escape(s, false); }
std::string terminal_safe_json(std::string_view json_text) { return escape(json_text, true); }

void use_terminal_safe_log_format(spdlog::logger& logger) {
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  formatter->add_flag<SafePayloadFlag>('*');
  formatter->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%n] [%^%l%$] %*");
  logger.set_formatter(std::move(formatter));
}

}  // namespace llmtap
