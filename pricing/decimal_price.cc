#include "pricing/decimal_price.h"

#include <cstdint>
#include <limits>

namespace llmtap {

std::optional<PicoUsd> parse_decimal_scaled(std::string_view text, int decimals_to_pico, std::string* error) {
  auto fail = [&](const char* why) -> std::optional<PicoUsd> {
    if (error) *error = "'" + std::string(text) + "' is not a valid price: " + why;
    return std::nullopt;
  };
  if (text.empty()) return fail("empty string");
  std::size_t dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
  if (whole.empty()) return fail("expected a digit before the decimal point (write 0.5, not .5)");
  if (dot != std::string_view::npos && frac.empty()) return fail("expected digits after the decimal point");
  for (char c : whole) {
    if (c < '0' || c > '9') return fail("only digits and one '.' are allowed (no sign, exponent or spaces)");
  }
  for (char c : frac) {
    if (c < '0' || c > '9') return fail("only digits and one '.' are allowed (no sign, exponent or spaces)");
  }
  // Trailing zeros beyond the scale are harmless; a significant digit there cannot be held exactly.
  while (static_cast<int>(frac.size()) > decimals_to_pico && frac.back() == '0') frac.remove_suffix(1);
  if (static_cast<int>(frac.size()) > decimals_to_pico) {
    return fail(decimals_to_pico == 6 ? "more than 6 decimal places per 1M tokens (finer than 1 picodollar per token)"
                                      : "more than 12 decimal places (finer than 1 picodollar)");
  }
  constexpr PicoUsd kMax = std::numeric_limits<PicoUsd>::max();
  PicoUsd value = 0;
  auto push_digit = [&](char c) -> bool {
    if (value > (kMax - (c - '0')) / 10) return false;
    value = value * 10 + (c - '0');
    return true;
  };
  for (char c : whole) {
    if (!push_digit(c)) return fail("too large");
  }
  for (int i = 0; i < decimals_to_pico; ++i) {
    char c = i < static_cast<int>(frac.size()) ? frac[i] : '0';
    if (!push_digit(c)) return fail("too large");
  }
  return value;
}

std::string format_scaled(PicoUsd value, int decimals) {
  bool negative = value < 0;
  // Work in unsigned to format INT64_MIN without overflow.
  std::uint64_t v = negative ? 0 - static_cast<std::uint64_t>(value) : static_cast<std::uint64_t>(value);
  std::string digits = std::to_string(v);
  if (static_cast<int>(digits.size()) <= decimals) digits.insert(0, decimals + 1 - digits.size(), '0');
  std::string whole = digits.substr(0, digits.size() - decimals);
  std::string frac = digits.substr(digits.size() - decimals);
  while (!frac.empty() && frac.back() == '0') frac.pop_back();
  std::string out = negative ? "-" : "";
  out += whole;
  if (!frac.empty()) out += "." + frac;
  return out;
}

}  // namespace llmtap
