#pragma once
// The versioned price table and the Pricer built on it. See pricing/README.md for the JSON schema,
// the matching rules and the fallbacks for prices a table leaves out.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "pricing/cost.h"

namespace llmtap {

// One set of prices, each optional so user layers can override field by field.
// Token prices are picodollars per token (= USD per 1M tokens x 1e6); per_request is picodollars.
struct PriceFields {
  std::optional<PicoUsd> input;
  std::optional<PicoUsd> cached_input;
  std::optional<PicoUsd> cache_write_5m;
  std::optional<PicoUsd> cache_write_1h;
  std::optional<PicoUsd> output;
  std::optional<PicoUsd> reasoning;
  std::optional<PicoUsd> per_request;

  void overlay(const PriceFields& over);  // fields set in `over` replace ours
};

// Above `above_prompt_tokens` prompt tokens (all input buckets), the whole request takes these prices.
struct ContextTier {
  std::int64_t above_prompt_tokens = 0;
  PriceFields prices;
};

struct ServiceTierPrices {
  PriceFields prices;
  std::vector<ContextTier> context_tiers;  // when empty, no context tier applies under this service tier
};

struct PriceEntry {
  std::string id;
  std::string provider;
  std::vector<std::string> aliases;
  std::string regex;  // matched against the whole (lower-case) name: implicitly anchored
  int priority = 0;   // among regex matches, higher wins; then the longer pattern
  std::string effective_from;   // "YYYY-MM-DD" inclusive, "" = since forever
  std::string effective_until;  // "YYYY-MM-DD" exclusive, "" = still valid
  PriceFields prices;
  std::vector<ContextTier> context_tiers;                 // ascending thresholds
  std::map<std::string, ServiceTierPrices> service_tiers;  // "batch", "flex", "priority"
  std::string source;
  std::string note;
};

// Every price resolved for one request, after tiers and fallbacks (see resolve()).
struct ResolvedPrices {
  PicoUsd input = 0, cached_input = 0, cache_write_5m = 0, cache_write_1h = 0, output = 0, reasoning = 0;
  PicoUsd per_request = 0;
  std::string service_tier;  // "" when standard prices applied
  std::int64_t context_tier_above = -1;  // threshold of the applied context tier, -1 when none
};

enum class MatchRule { kExact, kAlias, kRegex, kDateStripped, kUnknown };
const char* match_rule_name(MatchRule rule);

struct ModelMatch {
  MatchRule rule = MatchRule::kUnknown;
  const PriceEntry* entry = nullptr;  // into the table; valid until the table is layered or destroyed
  std::string query;                  // the model name as asked
  std::string matched_name;           // the name form that matched (after prefix/date stripping)
  std::string matched_by;             // the id, alias or regex that matched
  std::string derived;                // how matched_name was derived from query ("" = as sent)
};

struct TableSource {
  std::string name;
  std::string date;
  std::string note;
};

class PriceTable : public Pricer {
 public:
  PriceTable();
  ~PriceTable() override;
  PriceTable(PriceTable&&) noexcept;
  PriceTable& operator=(PriceTable&&) noexcept;

  // The table compiled into the binary (pricing/data/prices.json). Never fails in a tested build;
  // if it did, the table is empty (every model unknown) and an error is logged.
  static PriceTable load_default();
  // Parses a full table. `origin` names the text in errors (a file path or "<embedded>").
  static std::optional<PriceTable> from_json(std::string_view json_text, std::string_view origin, std::string* error);
  // The embedded table with `--pricing` files layered in order; nullopt (and *error) if one fails.
  static std::optional<PriceTable> load(const std::vector<std::string>& layer_files, std::string* error);

  // Layers a user table over this one (`--pricing FILE`): an entry whose id is already present
  // overrides that entry field by field; a new id is added. On error nothing is changed.
  bool layer_file(const std::string& path, std::string* error);
  bool layer_json(std::string_view json_text, std::string_view origin, std::string* error);

  // Matching (see README): exact id/alias, anchored regex, date-stripped, else unknown.
  // `at` selects among entries by effective dates; 0 means now.
  ModelMatch lookup(std::string_view model, UnixNanos at = 0) const;

  // Prices for one request to `entry`: service tier (if the entry has it), then context tier by
  // prompt tokens, then fallbacks for fields the table leaves out.
  static ResolvedPrices resolve(const PriceEntry& entry, std::int64_t prompt_tokens, std::string_view service_tier);
  // Exact cost of `usage` at `prices`; nullopt on negative token counts or int64 overflow.
  static std::optional<Cost> cost_of(const Usage& usage, const ResolvedPrices& prices);

  // Prices response_model if present, else request_model. Unknown model -> no cost, one warning per
  // model name, counter incremented.
  PricedCall price(const ModelCall& call) const override;

  std::string version() const;  // e.g. "2026-11-22.1" or "2026-11-22.1+my-prices"
  const std::string& date() const;
  const std::vector<TableSource>& sources() const;
  const std::vector<std::string>& notes() const;
  const std::vector<PriceEntry>& entries() const;

  std::uint64_t unknown_model_calls() const;         // calls that could not be priced by model name
  std::vector<std::string> unknown_models() const;   // distinct names behind them

 private:
  struct Data;
  struct UnknownTracker;
  std::unique_ptr<Data> data_;
  std::unique_ptr<UnknownTracker> unknown_;
};

}  // namespace llmtap
