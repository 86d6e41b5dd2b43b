#pragma once
// pricing/data/prices.json as compiled into the binary (generated at build time by embed_json.cmake).
#include <string_view>

namespace llmtap {

std::string_view embedded_prices_json();

}  // namespace llmtap
