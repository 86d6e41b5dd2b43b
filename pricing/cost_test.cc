// Every usage shape x model family, priced with the embedded default table. Expected dollars are
// worked out by hand from the table's per-1M prices (USD per 1M tokens), shown in the comments.
#include <gtest/gtest.h>

#include "pricing/price_table.h"
#include "pricing/pricing_test_util.h"

namespace llmtap {
namespace {

using testing::make_call;
using testing::Tokens;
using testing::usd;

class CostTest : public ::testing::Test {
 protected:
  void expect_cost(const ModelCall& call, const std::string& prompt_usd, const std::string& completion_usd,
                   const std::string& total_usd) {
    PricedCall p = table_.price(call);
    ASSERT_TRUE(p.cost.has_value()) << call.request_model << " rule " << p.match_rule;
    EXPECT_EQ(p.cost->prompt, usd(prompt_usd)) << format_usd(p.cost->prompt);
    EXPECT_EQ(p.cost->completion, usd(completion_usd)) << format_usd(p.cost->completion);
    EXPECT_EQ(p.cost->total(), usd(total_usd)) << format_usd(p.cost->total());
    EXPECT_EQ(p.table_version, table_.version());
  }
  PriceTable table_ = PriceTable::load_default();
};

// OpenAI reports prompt_tokens=10,000 with cached_tokens=4,000; the parser stores 6,000 uncached +
// 4,000 cache reads, so the cached tokens are billed once, at the cached price.
TEST_F(CostTest, OpenAiCachedInput) {
  // gpt-4o: input 2.50, cached 1.25, output 10.00 per 1M.
  // prompt     = 6,000 x 2.50/1M + 4,000 x 1.25/1M = 0.015 + 0.005 = 0.020
  // completion =   500 x 10.00/1M                  = 0.005
  expect_cost(make_call("gpt-4o", {.input = 6000, .cache_read = 4000, .output = 500}), "0.02", "0.005", "0.025");
  // gpt-4.1-mini: input 0.40, cached 0.10, output 1.60.
  // prompt = 7,000 x 0.40/1M + 3,000 x 0.10/1M = 0.0028 + 0.0003 = 0.0031; completion = 250 x 1.60/1M = 0.0004
  expect_cost(make_call("gpt-4.1-mini", {.input = 7000, .cache_read = 3000, .output = 250}), "0.0031", "0.0004",
              "0.0035");
  // gpt-5: input 1.25, cached 0.125, output 10.
  // prompt = 1,000 x 1.25/1M + 9,000 x 0.125/1M = 0.00125 + 0.001125 = 0.002375; completion = 100 x 10/1M = 0.001
  expect_cost(make_call("gpt-5", {.input = 1000, .cache_read = 9000, .output = 100}), "0.002375", "0.001",
              "0.003375");
}

// Anthropic reports input_tokens (uncached) apart from cache_read / cache_creation (5m and 1h).
TEST_F(CostTest, AnthropicCacheWritesAndReads) {
  // claude-sonnet-4-5: input 3, cached 0.30, write 5m 3.75, write 1h 6, output 15.
  // prompt = 1,000 x 3/1M      = 0.003
  //        + 20,000 x 0.30/1M  = 0.006
  //        + 3,000 x 3.75/1M   = 0.01125
  //        + 2,000 x 6/1M      = 0.012      -> 0.03225
  // completion = 800 x 15/1M   = 0.012      -> total 0.04425
  expect_cost(make_call("claude-sonnet-4-5",
                        {.input = 1000, .cache_read = 20000, .cache_write_5m = 3000, .cache_write_1h = 2000, .output = 800}),
              "0.03225", "0.012", "0.04425");
  // claude-opus-4-1: input 15, cached 1.50, write 5m 18.75, write 1h 30, output 75.
  // prompt = 10 x 15 + 5,000 x 1.5 + 4,000 x 18.75 = 150 + 7,500 + 75,000 = 82,650 /1M = 0.08265
  // completion = 2,000 x 75/1M = 0.15
  expect_cost(make_call("claude-opus-4-1", {.input = 10, .cache_read = 5000, .cache_write_5m = 4000, .output = 2000}),
              "0.08265", "0.15", "0.23265");
  // claude-haiku-4-5: input 1, cached 0.10, 1h write 2, output 5.
  // prompt = 500 x 1 + 100,000 x 0.1 + 10,000 x 2 = 500 + 10,000 + 20,000 = 30,500 /1M = 0.0305
  // completion = 300 x 5/1M = 0.0015
  expect_cost(make_call("claude-haiku-4-5", {.input = 500, .cache_read = 100000, .cache_write_1h = 10000, .output = 300}),
              "0.0305", "0.0015", "0.032");
  // claude-3-5-haiku-20241022 (Claude 3.5): input 0.80, cached 0.08, write 5m 1.00, output 4.
  // prompt = 2,000 x 0.8 + 1,000 x 0.08 + 1,000 x 1 = 1,600 + 80 + 1,000 = 2,680 /1M = 0.00268
  // completion = 100 x 4/1M = 0.0004
  expect_cost(make_call("claude-3-5-haiku-20241022", {.input = 2000, .cache_read = 1000, .cache_write_5m = 1000, .output = 100}),
              "0.00268", "0.0004", "0.00308");
  // claude-opus-4-8 / claude-opus-5: input 5, cached 0.5, write 5m 6.25, write 1h 10, output 25.
  // prompt = 100 x 5 + 1,000 x 0.5 + 1,000 x 6.25 + 1,000 x 10 = 500 + 500 + 6,250 + 10,000 = 17,250 /1M
  // completion = 1,000 x 25/1M = 0.025
  for (const char* m : {"claude-opus-4-8", "claude-opus-5"}) {
    expect_cost(make_call(m, {.input = 100, .cache_read = 1000, .cache_write_5m = 1000, .cache_write_1h = 1000, .output = 1000}),
                "0.01725", "0.025", "0.04225");
  }
}

// Above 200,000 prompt tokens (all input buckets) the whole request takes the long-context prices.
TEST_F(CostTest, AnthropicLongContextTier) {
  // claude-sonnet-4-5 above 200k: input 6, cached 0.60, output 22.50.
  // prompt tokens = 150,000 + 60,000 = 210,000 > 200,000
  // prompt = 150,000 x 6/1M + 60,000 x 0.6/1M = 0.9 + 0.036 = 0.936; completion = 1,000 x 22.5/1M = 0.0225
  PricedCall p = table_.price(make_call("claude-sonnet-4-5", {.input = 150000, .cache_read = 60000, .output = 1000}));
  EXPECT_TRUE(p.long_context);
  expect_cost(make_call("claude-sonnet-4-5", {.input = 150000, .cache_read = 60000, .output = 1000}), "0.936", "0.0225",
              "0.9585");
}

TEST_F(CostTest, Reasoning) {
  // o3: input 2, output 8; reasoning has no price of its own, so it is billed at output.
  // prompt = 2,000 x 2/1M = 0.004; completion = (300 + 1,200) x 8/1M = 0.012
  expect_cost(make_call("o3", {.input = 2000, .output = 300, .reasoning = 1200}), "0.004", "0.012", "0.016");
  // o4-mini: input 1.10, cached 0.275, output 4.40.
  // prompt = 1,000 x 1.1 + 1,000 x 0.275 = 1,375 /1M = 0.001375; completion = (100 + 400) x 4.4/1M = 0.0022
  expect_cost(make_call("o4-mini", {.input = 1000, .cache_read = 1000, .output = 100, .reasoning = 400}), "0.001375",
              "0.0022", "0.003575");
  // gemini-2.5-flash-preview-04-17 prices thinking apart: output 0.60, reasoning 3.50, input 0.15.
  // prompt = 10,000 x 0.15/1M = 0.0015; completion = 1,000 x 0.6/1M + 2,000 x 3.5/1M = 0.0006 + 0.007 = 0.0076
  expect_cost(make_call("gemini-2.5-flash-preview-04-17", {.input = 10000, .output = 1000, .reasoning = 2000}), "0.0015",
              "0.0076", "0.0091");
}

TEST_F(CostTest, GeminiLongContextTier) {
  // gemini-2.5-pro: <= 200k: input 1.25, cached 0.125, output 10; > 200k: input 2.50, cached 0.25, output 15.
  // Exactly 200,000 prompt tokens is not above the threshold:
  // prompt = 200,000 x 1.25/1M = 0.25; completion = 1,000 x 10/1M = 0.01
  ModelCall at_threshold = make_call("gemini-2.5-pro", {.input = 200000, .output = 1000});
  EXPECT_FALSE(table_.price(at_threshold).long_context);
  expect_cost(at_threshold, "0.25", "0.01", "0.26");
  // 190,000 + 20,000 cached = 210,000 > 200,000: the whole request at tier prices.
  // prompt = 190,000 x 2.5/1M + 20,000 x 0.25/1M = 0.475 + 0.005 = 0.48
  // completion = (2,000 + 3,000 thinking) x 15/1M = 0.075
  ModelCall above = make_call("models/gemini-2.5-pro", {.input = 190000, .cache_read = 20000, .output = 2000, .reasoning = 3000});
  EXPECT_TRUE(table_.price(above).long_context);
  expect_cost(above, "0.48", "0.075", "0.555");
  // gemini-3-pro-preview above 200k: input 4, output 18. prompt = 300,000 x 4/1M = 1.2; completion = 500 x 18/1M = 0.009
  expect_cost(make_call("gemini-3-pro-preview", {.input = 300000, .output = 500}), "1.2", "0.009", "1.209");
  // gemini-3.5-flash (no tier): input 1.5, cached 0.15, output 9.
  // prompt = 300,000 x 1.5/1M + 100,000 x 0.15/1M = 0.45 + 0.015 = 0.465; completion = 1,000 x 9/1M = 0.009
  expect_cost(make_call("gemini-3.5-flash", {.input = 300000, .cache_read = 100000, .output = 1000}), "0.465", "0.009",
              "0.474");
}

TEST_F(CostTest, ServiceTiers) {
  // gpt-4o batch: input 1.25, output 5. prompt = 10,000 x 1.25/1M = 0.0125; completion = 1,000 x 5/1M = 0.005
  ModelCall batch = make_call("gpt-4o", {.input = 10000, .output = 1000}, "batch");
  EXPECT_EQ(table_.price(batch).service_tier, "batch");
  expect_cost(batch, "0.0125", "0.005", "0.0175");
  // gpt-4o priority: input 4.25, output 17. prompt = 10,000 x 4.25/1M = 0.0425; completion = 1,000 x 17/1M = 0.017
  expect_cost(make_call("gpt-4o", {.input = 10000, .output = 1000}, "Priority"), "0.0425", "0.017", "0.0595");
  // "default" (and "standard", "auto") is the standard price: 10,000 x 2.5 + 1,000 x 10 = 0.025 + 0.01
  expect_cost(make_call("gpt-4o", {.input = 10000, .output = 1000}, "default"), "0.025", "0.01", "0.035");
  // gpt-5 flex: input 0.625, cached 0.0625, output 5.
  // prompt = 8,000 x 0.625/1M + 2,000 x 0.0625/1M = 0.005 + 0.000125 = 0.005125; completion = 1,000 x 5/1M = 0.005
  expect_cost(make_call("gpt-5", {.input = 8000, .cache_read = 2000, .output = 1000}, "flex"), "0.005125", "0.005",
              "0.010125");
  // A tier the entry has no prices for falls back to standard prices (gpt-4o has no flex):
  ModelCall flex4o = make_call("gpt-4o", {.input = 10000, .output = 1000}, "flex");
  EXPECT_EQ(table_.price(flex4o).service_tier, "");
  expect_cost(flex4o, "0.025", "0.01", "0.035");
  // gemini-3-pro-preview priority has its own long-context prices: above 200k input 7.20, output 32.40.
  // prompt = 250,000 x 7.2/1M = 1.8; completion = 1,000 x 32.4/1M = 0.0324
  expect_cost(make_call("gemini-3-pro-preview", {.input = 250000, .output = 1000}, "priority"), "1.8", "0.0324", "1.8324");
}

TEST_F(CostTest, DatedSnapshotsAndProviderSpellings) {
  // Aliases of gpt-4o (2.5 / 10): prompt = 1,000 x 2.5/1M = 0.0025; completion = 100 x 10/1M = 0.001
  for (const char* m : {"gpt-4o-2024-08-06", "gpt-4o-2024-11-20", "GPT-4o", "openai/gpt-4o"}) {
    expect_cost(make_call(m, {.input = 1000, .output = 100}), "0.0025", "0.001", "0.0035");
  }
  // gpt-4o-2024-05-13 kept its launch price, 5 / 15: 1,000 x 5 + 100 x 15 -> 0.005 + 0.0015
  expect_cost(make_call("gpt-4o-2024-05-13", {.input = 1000, .output = 100}), "0.005", "0.0015", "0.0065");
  // Claude Sonnet 4.5 by its dated id, Vertex and Bedrock spellings (3 / 15):
  // prompt = 1,000 x 3/1M = 0.003; completion = 100 x 15/1M = 0.0015
  for (const char* m : {"claude-sonnet-4-5-20250929", "claude-sonnet-4-5@20250929",
                        "us.anthropic.claude-sonnet-4-5-20250929-v1:0", "anthropic/claude-sonnet-4-5",
                        "anthropic/claude-sonnet-4.5"}) {
    expect_cost(make_call(m, {.input = 1000, .output = 100}), "0.003", "0.0015", "0.0045");
  }
  // A future snapshot of a model with one base entry is priced by the base (opus 4.6: 5 / 25):
  // prompt = 1,000 x 5/1M = 0.005; completion = 100 x 25/1M = 0.0025
  ModelCall future = make_call("claude-opus-4-6-20270101", {.input = 1000, .output = 100});
  EXPECT_EQ(table_.price(future).match_rule, "date_stripped");
  expect_cost(future, "0.005", "0.0025", "0.0075");
}

TEST_F(CostTest, ResponseModelWinsOverRequestModel) {
  // Asked for "gpt-4o", served by the 2024-05-13 snapshot: priced at 5 / 15.
  ModelCall c = make_call("gpt-4o", {.input = 1000, .output = 100});
  c.response_model = "gpt-4o-2024-05-13";
  EXPECT_EQ(table_.price(c).entry_id, "gpt-4o-2024-05-13");
  expect_cost(c, "0.005", "0.0015", "0.0065");
}

TEST_F(CostTest, SearchPreviewIsNotGpt4o) {
  // gpt-4o-mini-search-preview has its own entry (0.15 / 0.60); a substring match would price it as
  // gpt-4o (2.50 / 10) or gpt-4o-mini. prompt = 10,000 x 0.15/1M = 0.0015; completion = 1,000 x 0.6/1M = 0.0006
  ModelCall c = make_call("gpt-4o-mini-search-preview-2025-03-11", {.input = 10000, .output = 1000});
  PricedCall p = table_.price(c);
  EXPECT_EQ(p.entry_id, "gpt-4o-mini-search-preview");
  EXPECT_EQ(p.match_rule, "alias");
  expect_cost(c, "0.0015", "0.0006", "0.0021");
}

TEST_F(CostTest, NoUsageMeansNoCost) {
  ModelCall c = make_call("gpt-4o", {});
  c.usage.present = false;
  PricedCall p = table_.price(c);
  EXPECT_FALSE(p.cost.has_value());
  EXPECT_EQ(p.entry_id, "gpt-4o");
}

TEST_F(CostTest, ThousandCallRollupHasNoDrift) {
  // Call i (0..999) on claude-sonnet-4-5: input 1,000 + i, cache read 333, output 7i.
  //   sum input  = 1,000 x 1,000 + (0 + ... + 999) = 1,000,000 + 499,500 = 1,499,500 tokens x 3/1M    = 4.4985
  //   sum cached = 333,000 tokens x 0.30/1M                                                             = 0.0999
  //   sum output = 7 x 499,500 = 3,496,500 tokens x 15/1M                                               = 52.4475
  //   total = 4.4985 + 0.0999 + 52.4475 = 57.0459
  PicoUsd prompt = 0, completion = 0;
  double float_total = 0;
  for (int i = 0; i < 1000; ++i) {
    PricedCall p = table_.price(make_call("claude-sonnet-4-5", {.input = 1000 + i, .cache_read = 333, .output = 7 * i}));
    ASSERT_TRUE(p.cost);
    prompt += p.cost->prompt;
    completion += p.cost->completion;
    float_total += pico_to_usd(p.cost->total());
  }
  EXPECT_EQ(prompt, usd("4.5984"));
  EXPECT_EQ(completion, usd("52.4475"));
  EXPECT_EQ(prompt + completion, usd("57.0459"));
  // The double-precision sum is only close; the exact one is what llmtap reports.
  EXPECT_NEAR(float_total, 57.0459, 1e-9);
}

TEST_F(CostTest, UsageThatCannotBePricedHasNoCost) {
  EXPECT_FALSE(table_.price(make_call("gpt-4o", {.input = -1})).cost);
  // 2^62 output tokens x 10,000,000 pico overflows int64: no cost rather than a wrapped one.
  EXPECT_FALSE(table_.price(make_call("gpt-4o", {.output = std::int64_t{1} << 62})).cost);
}

}  // namespace
}  // namespace llmtap
