#pragma once
// Exact money: integer picodollars (1e-12 USD). Prices are per 1M tokens with up to six decimals,
// so price-per-token is a whole number of picodollars and rollups never drift.
#include <cstdint>
#include <optional>
#include <string>

#include "common/model_call.h"

namespace llmtap {

using PicoUsd = std::int64_t;

inline double pico_to_usd(PicoUsd p) { return static_cast<double>(p) / 1e12; }

struct Cost {
  PicoUsd prompt = 0;      // uncached input + cache read + cache writes + per-request fee
  PicoUsd completion = 0;  // output + reasoning
  PicoUsd total() const { return prompt + completion; }
};

struct PricedCall {
  std::optional<Cost> cost;   // absent when the model is not in the table (never a made-up 0)
  std::string entry_id;       // which table entry matched
  std::string table_version;
  std::string match_rule;     // "exact", "alias", "regex", "date_stripped" or "unknown"
  std::string service_tier;   // service-tier prices applied ("batch", "flex", "priority"), "" for standard
  bool long_context = false;  // a context tier (above N prompt tokens) priced the whole request
};

// What trace/ needs from pricing/: price one finished call.
class Pricer {
 public:
  virtual ~Pricer() = default;
  virtual PricedCall price(const ModelCall& call) const = 0;
};

}  // namespace llmtap
