#pragma once
// Exact decimal <-> integer picodollar conversion. Prices are written as decimal strings so that no
// binary floating point ever touches money: "2.50" USD per 1M tokens is exactly 2,500,000 pico/token.
#include <optional>
#include <string>
#include <string_view>

#include "pricing/cost.h"

namespace llmtap {

// Parses a non-negative decimal string ("2.5", "0.075", "15") and scales it by 10^decimals_to_pico:
//  - per-1M-token prices use 6 (USD per 1M tokens -> picodollars per token),
//  - per-request prices use 12 (USD -> picodollars).
// Returns nullopt and sets *error when the text is not a plain decimal, has more significant
// fractional digits than the scale can hold exactly, or overflows.
std::optional<PicoUsd> parse_decimal_scaled(std::string_view text, int decimals_to_pico, std::string* error);

inline std::optional<PicoUsd> parse_per_million_price(std::string_view text, std::string* error) {
  return parse_decimal_scaled(text, 6, error);
}
inline std::optional<PicoUsd> parse_per_request_price(std::string_view text, std::string* error) {
  return parse_decimal_scaled(text, 12, error);
}

// Inverse of parse_decimal_scaled: the shortest decimal string for value / 10^decimals.
std::string format_scaled(PicoUsd value, int decimals);

// Picodollars -> USD as an exact decimal string ("0.012345").
inline std::string format_usd(PicoUsd pico) { return format_scaled(pico, 12); }
// Picodollars per token -> USD per 1M tokens ("2.5").
inline std::string format_per_million(PicoUsd pico_per_token) { return format_scaled(pico_per_token, 6); }

}  // namespace llmtap
