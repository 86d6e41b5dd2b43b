// PriceTable on small hand-written tables: schema errors, matching rules, layering, effective
// dates, fallbacks and the unknown-model path.
#include "pricing/price_table.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "pricing/pricing_test_util.h"

namespace llmtap {
namespace {

using testing::make_call;
using testing::Tokens;
using testing::usd;

PriceTable table_from(const std::string& json) {
  std::string err;
  auto t = PriceTable::from_json(json, "test.json", &err);
  EXPECT_TRUE(t.has_value()) << err;
  return t ? std::move(*t) : PriceTable();
}

std::string table_with(const std::string& models) {
  return R"({"schema_version": 1, "table_version": "t1", "table_date": "2026-01-01",
             "sources": [{"name": "hand", "date": "2026-01-01"}], "models": [)" +
         models + "]}";
}

std::string load_error(const std::string& json) {
  std::string err;
  auto t = PriceTable::from_json(json, "test.json", &err);
  EXPECT_FALSE(t.has_value());
  return err;
}

// ---- schema ------------------------------------------------------------------------------------

TEST(PriceTableSchema, ReadsMetadata) {
  PriceTable t = table_from(table_with(R"({"id": "m", "prices": {"input": "1", "output": "2"}})"));
  EXPECT_EQ(t.version(), "t1");
  EXPECT_EQ(t.date(), "2026-01-01");
  ASSERT_EQ(t.sources().size(), 1u);
  EXPECT_EQ(t.sources()[0].name, "hand");
}

TEST(PriceTableSchema, BadDecimalNamesFileModelAndField) {
  std::string err = load_error(table_with(R"({"id": "acme-1", "prices": {"input": "1.5e-6", "output": "2"}})"));
  EXPECT_NE(err.find("test.json"), std::string::npos) << err;
  EXPECT_NE(err.find("model 'acme-1'"), std::string::npos) << err;
  EXPECT_NE(err.find("field 'prices.input'"), std::string::npos) << err;
  err = load_error(table_with(R"({"id": "acme-1", "prices": {"input": "1", "output": "2"},
                                  "context_tiers": [{"above_prompt_tokens": 10, "prices": {"output": "-3"}}]})"));
  EXPECT_NE(err.find("field 'context_tiers[0].prices.output'"), std::string::npos) << err;
}

TEST(PriceTableSchema, RefusesJsonNumbersForPrices) {
  std::string err = load_error(table_with(R"({"id": "m", "prices": {"input": 2.5, "output": "2"}})"));
  EXPECT_NE(err.find("decimal string"), std::string::npos) << err;
}

TEST(PriceTableSchema, Errors) {
  EXPECT_NE(load_error("{not json").find("not valid JSON"), std::string::npos);
  EXPECT_NE(load_error(R"({"table_version": "x", "models": []})").find("schema_version"), std::string::npos);
  EXPECT_NE(load_error(R"({"schema_version": 2, "table_version": "x", "models": []})").find("unsupported"),
            std::string::npos);
  EXPECT_NE(load_error(R"({"schema_version": 1, "models": []})").find("table_version"), std::string::npos);
  EXPECT_NE(load_error(table_with(R"({"id": "m", "prices": {"input": "1"}})")).find("prices.output"), std::string::npos);
  EXPECT_NE(load_error(table_with(R"({"id": "m", "prices": {"inptu": "1", "output": "1"}})")).find("unknown price field"),
            std::string::npos);
  EXPECT_NE(load_error(table_with(R"({"id": "m", "pricez": {}})")).find("unknown field"), std::string::npos);
  EXPECT_NE(load_error(table_with(R"({"id": "m", "regex": "(", "prices": {"input": "1", "output": "1"}})")).find("regex"),
            std::string::npos);
  EXPECT_NE(load_error(table_with(R"({"id": "m", "service_tiers": {"turbo": {}}, "prices": {"input": "1", "output": "1"}})"))
                .find("unknown service tier"),
            std::string::npos);
  // Two entries may not claim one name at the same time.
  EXPECT_NE(load_error(table_with(R"({"id": "a", "aliases": ["x"], "prices": {"input": "1", "output": "1"}},
                                     {"id": "b", "aliases": ["X"], "prices": {"input": "1", "output": "1"}})"))
                .find("claimed by both"),
            std::string::npos);
}

// ---- matching ----------------------------------------------------------------------------------

TEST(PriceTableMatch, RulesInOrder) {
  PriceTable t = table_from(table_with(R"(
    {"id": "acme-pro", "aliases": ["acme-pro-2025-01-01"], "prices": {"input": "1", "output": "2"}},
    {"id": "acme-family", "regex": "acme-[a-z]+", "prices": {"input": "3", "output": "4"}},
    {"id": "zeta-20250101", "prices": {"input": "5", "output": "6"}})"));
  ModelMatch m = t.lookup("ACME-PRO");
  EXPECT_EQ(m.rule, MatchRule::kExact);
  EXPECT_EQ(m.entry->id, "acme-pro");
  m = t.lookup("acme-pro-2025-01-01");
  EXPECT_EQ(m.rule, MatchRule::kAlias);
  EXPECT_EQ(m.entry->id, "acme-pro");
  // Exact wins over a regex that also matches.
  EXPECT_EQ(t.lookup("acme-pro").rule, MatchRule::kExact);
  m = t.lookup("acme-lite");
  EXPECT_EQ(m.rule, MatchRule::kRegex);
  EXPECT_EQ(m.entry->id, "acme-family");
  // The regex is anchored: no match on a prefix or a suffix of the name.
  EXPECT_EQ(t.lookup("acme-lite-2").rule, MatchRule::kUnknown);
  EXPECT_EQ(t.lookup("x-acme-lite").rule, MatchRule::kUnknown);
  // A future snapshot: the base "acme-pro" has exactly one entry.
  m = t.lookup("acme-pro-2026-05-05");
  EXPECT_EQ(m.rule, MatchRule::kDateStripped);
  EXPECT_EQ(m.entry->id, "acme-pro");
  // A different snapshot of an entry known only by its dated id.
  m = t.lookup("zeta@20260101");
  EXPECT_EQ(m.rule, MatchRule::kDateStripped);
  EXPECT_EQ(m.entry->id, "zeta-20250101");
  EXPECT_EQ(t.lookup("nothing-like-it").rule, MatchRule::kUnknown);
}

TEST(PriceTableMatch, DateStripRefusesToGuessBetweenBases) {
  // Two snapshots with different prices: a third, unknown snapshot could be either.
  PriceTable t = table_from(table_with(R"(
    {"id": "m", "aliases": ["m-2024-08-06"], "prices": {"input": "2.5", "output": "10"}},
    {"id": "m-2024-05-13", "prices": {"input": "5", "output": "15"}})"));
  EXPECT_EQ(t.lookup("m-2024-08-06").entry->id, "m");
  EXPECT_EQ(t.lookup("m-2024-05-13").entry->id, "m-2024-05-13");
  EXPECT_EQ(t.lookup("m-2099-01-01").rule, MatchRule::kUnknown);
}

TEST(PriceTableMatch, RegexPriorityThenLength) {
  PriceTable t = table_from(table_with(R"(
    {"id": "broad", "regex": "acme-.*", "prices": {"input": "1", "output": "1"}},
    {"id": "longer", "regex": "acme-large-.*", "prices": {"input": "2", "output": "2"}},
    {"id": "urgent", "regex": "acme.*turbo", "priority": 10, "prices": {"input": "3", "output": "3"}})"));
  EXPECT_EQ(t.lookup("acme-small").entry->id, "broad");
  EXPECT_EQ(t.lookup("acme-large-1").entry->id, "longer");        // longest pattern wins
  EXPECT_EQ(t.lookup("acme-large-turbo").entry->id, "urgent");    // explicit priority beats length
}

TEST(PriceTableMatch, NeverSubstring) {
  // Only gpt-4o is known: its longer cousins are unknown, not gpt-4o.
  PriceTable t = table_from(table_with(R"({"id": "gpt-4o", "prices": {"input": "2.5", "output": "10"}})"));
  for (const char* m : {"gpt-4o-mini-search-preview", "gpt-4o-mini", "gpt-4o-search-preview-2025-03-11", "xgpt-4o"}) {
    EXPECT_EQ(t.lookup(m).rule, MatchRule::kUnknown) << m;
  }
}

// `(a|aa)+$` took over 20 s per lookup under std::regex; RE2 matches in linear time.
TEST(PriceTableMatch, PathologicalPatternsOnLongNamesFinish) {
  PriceTable t = table_from(table_with(R"(
    {"id": "alt", "regex": "(a|aa)+$", "prices": {"input": "1", "output": "1"}},
    {"id": "nested", "regex": "(x+x+)+y", "prices": {"input": "2", "output": "2"}})"));
  const std::string name(1 << 20, 'a');
  ModelMatch m = t.lookup(name);
  EXPECT_EQ(m.rule, MatchRule::kRegex);
  EXPECT_EQ(m.entry->id, "alt");
  EXPECT_EQ(t.lookup(name + "b").rule, MatchRule::kUnknown);
  EXPECT_EQ(t.lookup(std::string(1 << 20, 'x')).rule, MatchRule::kUnknown);
  EXPECT_EQ(t.lookup("xxxy").entry->id, "nested");
  // RE2 refuses what would need backtracking, naming the file, model and pattern.
  std::string err = load_error(table_with(R"({"id": "m", "regex": "(a)\\1", "prices": {"input": "1", "output": "1"}})"));
  EXPECT_NE(err.find("test.json: model 'm': field 'regex': invalid regular expression '(a)\\1'"), std::string::npos) << err;
}

TEST(PriceTableMatch, EffectiveDates) {
  PriceTable t = table_from(table_with(R"(
    {"id": "acme", "effective_from": "2025-01-01", "effective_until": "2026-01-01", "prices": {"input": "1", "output": "1"}},
    {"id": "acme", "effective_from": "2026-01-01", "prices": {"input": "2", "output": "2"}})"));
  auto at = [](int y, int m, int d) {
    std::tm tm{};
    tm.tm_year = y - 1900;
    tm.tm_mon = m - 1;
    tm.tm_mday = d;
    tm.tm_hour = 12;
    return static_cast<UnixNanos>(timegm(&tm)) * 1000000000LL;
  };
  EXPECT_EQ(*t.lookup("acme", at(2025, 6, 1)).entry->prices.input, 1000000);
  EXPECT_EQ(*t.lookup("acme", at(2026, 1, 1)).entry->prices.input, 2000000);
  EXPECT_EQ(t.lookup("acme", at(2024, 12, 31)).rule, MatchRule::kUnknown);
  // price() uses the call's request time.
  ModelCall c = make_call("acme", {.input = 1000000});
  c.timings.request_start = at(2025, 3, 3);
  EXPECT_EQ(t.price(c).cost->prompt, usd("1"));  // 1,000,000 x 1/1M
}

// ---- arithmetic details ------------------------------------------------------------------------

TEST(PriceTableCost, FallbacksAndPerRequestFee) {
  PriceTable t = table_from(table_with(R"(
    {"id": "plain", "prices": {"input": "2", "output": "8", "per_request": "0.01"}})"));
  // No cached/cache-write/reasoning prices: cache reads and writes at input (2), reasoning at output (8).
  // prompt = (100 + 200 + 300 + 400) x 2/1M + 0.01 = 0.002 + 0.01 = 0.012
  // completion = (50 + 50) x 8/1M = 0.0008
  PricedCall p = t.price(make_call(
      "plain", {.input = 100, .cache_read = 200, .cache_write_5m = 300, .cache_write_1h = 400, .output = 50, .reasoning = 50}));
  ASSERT_TRUE(p.cost);
  EXPECT_EQ(p.cost->prompt, usd("0.012"));
  EXPECT_EQ(p.cost->completion, usd("0.0008"));
}

TEST(PriceTableCost, OneHourWriteFallsBackToFiveMinuteWrite) {
  PriceTable t = table_from(table_with(R"({"id": "m", "prices": {"input": "1", "cache_write_5m": "1.25", "output": "5"}})"));
  ResolvedPrices r = PriceTable::resolve(t.entries()[0], 0, "");
  EXPECT_EQ(r.cache_write_1h, 1250000);
  EXPECT_EQ(r.cached_input, 1000000);
  EXPECT_EQ(r.reasoning, 5000000);
}

// ---- layering ----------------------------------------------------------------------------------

class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    char tmpl[] = "/tmp/llmtap_pricing_testXXXXXX";
    int fd = mkstemp(tmpl);
    EXPECT_GE(fd, 0);
    close(fd);
    path_ = tmpl;
    std::ofstream(path_) << content;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(PriceTableLayer, OverridesPerModelAndPerField) {
  PriceTable t = PriceTable::load_default();
  const std::string base_version = t.version();
  TempFile f(R"({"schema_version": 1, "table_version": "my-prices", "models": [
    {"id": "gpt-4o", "prices": {"cached_input": "1.00"}},
    {"id": "my-finetune", "aliases": ["ft:gpt-4o:acme"], "prices": {"input": "3.75", "output": "15"}}]})");
  std::string err;
  ASSERT_TRUE(t.layer_file(f.path(), &err)) << err;
  EXPECT_EQ(t.version(), base_version + "+my-prices");
  // gpt-4o keeps input 2.50 and output 10, takes cached 1.00:
  // prompt = 6,000 x 2.5/1M + 4,000 x 1.0/1M = 0.015 + 0.004 = 0.019; completion = 500 x 10/1M = 0.005
  PricedCall p = t.price(make_call("gpt-4o", {.input = 6000, .cache_read = 4000, .output = 500}));
  ASSERT_TRUE(p.cost);
  EXPECT_EQ(p.cost->prompt, usd("0.019"));
  EXPECT_EQ(p.cost->completion, usd("0.005"));
  EXPECT_EQ(p.table_version, base_version + "+my-prices");
  // Its aliases and service tiers are untouched: batch input 1.25 -> 1,000 x 1.25/1M
  EXPECT_EQ(t.price(make_call("gpt-4o-2024-08-06", {.input = 1000}, "batch")).cost->prompt, usd("0.00125"));
  // A new model: prompt = 1,000 x 3.75/1M = 0.00375
  EXPECT_EQ(t.price(make_call("ft:gpt-4o:acme", {.input = 1000})).cost->prompt, usd("0.00375"));
}

TEST(PriceTableLayer, LoadWithFiles) {
  TempFile f(R"({"schema_version": 1, "models": [{"id": "house", "prices": {"input": "1", "output": "2"}}]})");
  std::string err;
  auto t = PriceTable::load({f.path()}, &err);
  ASSERT_TRUE(t) << err;
  EXPECT_EQ(t->lookup("house").rule, MatchRule::kExact);
  EXPECT_EQ(t->lookup("gpt-4o").rule, MatchRule::kExact);
  EXPECT_FALSE(PriceTable::load({f.path(), "/nonexistent.json"}, &err));
  EXPECT_NE(err.find("/nonexistent.json"), std::string::npos);
}

TEST(PriceTableLayer, LaterLayerWins) {
  PriceTable t = table_from(table_with(R"({"id": "m", "prices": {"input": "1", "output": "1"}})"));
  std::string err;
  ASSERT_TRUE(t.layer_json(R"({"schema_version": 1, "models": [{"id": "m", "prices": {"input": "2"}}]})", "a.json", &err));
  ASSERT_TRUE(t.layer_json(R"({"schema_version": 1, "models": [{"id": "M", "prices": {"input": "3"}}]})", "b.json", &err));
  EXPECT_EQ(*t.lookup("m").entry->prices.input, 3000000);
  EXPECT_EQ(*t.lookup("m").entry->prices.output, 1000000);
  EXPECT_EQ(t.version(), "t1+a.json+b.json");
}

TEST(PriceTableLayer, ClearErrorsAndNoPartialChange) {
  PriceTable t = table_from(table_with(R"({"id": "m", "prices": {"input": "1", "output": "1"}})"));
  std::string err;
  EXPECT_FALSE(t.layer_file("/nonexistent/prices.json", &err));
  EXPECT_NE(err.find("/nonexistent/prices.json: cannot open"), std::string::npos) << err;
  TempFile bad_json("{\"schema_version\": 1, ");
  EXPECT_FALSE(t.layer_file(bad_json.path(), &err));
  EXPECT_NE(err.find("not valid JSON"), std::string::npos) << err;
  EXPECT_NE(err.find(bad_json.path()), std::string::npos) << err;
  TempFile bad_schema(R"({"models": []})");
  EXPECT_FALSE(t.layer_file(bad_schema.path(), &err));
  EXPECT_NE(err.find("schema_version"), std::string::npos) << err;
  // A good first entry and a bad second one: nothing is applied.
  TempFile half(R"({"schema_version": 1, "models": [{"id": "m", "prices": {"input": "9"}},
                                                     {"id": "new", "prices": {"input": "1"}}]})");
  EXPECT_FALSE(t.layer_file(half.path(), &err));
  EXPECT_NE(err.find("model 'new': field 'prices.output': is required"), std::string::npos) << err;
  EXPECT_EQ(*t.lookup("m").entry->prices.input, 1000000);
  EXPECT_EQ(t.version(), "t1");
}

// ---- unknown models ----------------------------------------------------------------------------

TEST(PriceTableUnknown, NoCostCounterAndOneWarning) {
  std::ostringstream log;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log);
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("test", sink));

  PriceTable t = table_from(table_with(R"({"id": "gpt-4o", "prices": {"input": "2.5", "output": "10"}})"));
  EXPECT_EQ(t.unknown_model_calls(), 0u);
  for (int i = 0; i < 3; ++i) {
    PricedCall p = t.price(make_call("my-local-llama", {.input = 100, .output = 10}));
    EXPECT_FALSE(p.cost.has_value());  // absent, never 0
    EXPECT_EQ(p.match_rule, "unknown");
    EXPECT_EQ(p.table_version, "t1");
  }
  t.price(make_call("another-model", {.input = 1}));
  EXPECT_EQ(t.unknown_model_calls(), 4u);
  EXPECT_EQ(t.unknown_models(), (std::vector<std::string>{"another-model", "my-local-llama"}));

  spdlog::set_default_logger(previous);
  const std::string text = log.str();
  std::size_t warnings = 0;
  for (std::size_t pos = text.find("my-local-llama"); pos != std::string::npos; pos = text.find("my-local-llama", pos + 1)) {
    ++warnings;
  }
  EXPECT_EQ(warnings, 1u) << text;
  EXPECT_NE(text.find("another-model"), std::string::npos);
}

TEST(PriceTableUnknown, UnknownResponseModelFallsBackToRequestModel) {
  PriceTable t = table_from(table_with(R"({"id": "gpt-4o", "prices": {"input": "2.5", "output": "10"}})"));
  ModelCall c = make_call("gpt-4o", {.input = 1000});
  c.response_model = "gpt-4o-some-gateway-name";
  PricedCall p = t.price(c);
  ASSERT_TRUE(p.cost);
  EXPECT_EQ(p.entry_id, "gpt-4o");
  EXPECT_EQ(t.unknown_model_calls(), 0u);
}

}  // namespace
}  // namespace llmtap
