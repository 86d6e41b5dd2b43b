// The embedded default table: it loads, records its sources, and covers the families llmtap
// promises (names as the current openai / @anthropic-ai/sdk type files spell them).
#include <gtest/gtest.h>

#include "pricing/embedded_prices.h"
#include "pricing/price_table.h"

namespace llmtap {
namespace {

TEST(DefaultTable, LoadsWithVersionAndSources) {
  std::string err;
  auto t = PriceTable::from_json(embedded_prices_json(), "<embedded>", &err);
  ASSERT_TRUE(t.has_value()) << err;
  EXPECT_FALSE(t->version().empty());
  EXPECT_FALSE(t->date().empty());
  EXPECT_GE(t->sources().size(), 2u);
  EXPECT_GE(t->entries().size(), 50u);
  EXPECT_EQ(PriceTable::load_default().version(), t->version());
}

TEST(DefaultTable, CoversRequiredFamilies) {
  PriceTable t = PriceTable::load_default();
  const char* required[] = {
      // OpenAI
      "gpt-4o", "gpt-4o-2024-11-20", "gpt-4o-mini", "gpt-4o-mini-2024-07-18", "gpt-4.1", "gpt-4.1-2025-04-14",
      "gpt-4.1-mini", "gpt-4.1-nano", "gpt-5", "gpt-5-2025-08-07", "gpt-5-mini", "gpt-5-nano", "gpt-5-chat-latest",
      "gpt-5.1", "gpt-5.1-codex", "gpt-5.2", "gpt-5.2-pro", "gpt-5.3-chat-latest", "gpt-5.4", "gpt-5.4-mini-2026-03-17",
      "gpt-5.4-nano", "gpt-5.5", "gpt-5.6-sol", "gpt-5.6-terra", "gpt-5.6-luna", "o3", "o3-2025-04-16", "o4-mini",
      "o4-mini-2025-04-16",
      // Anthropic
      "claude-3-5-sonnet-20241022", "claude-3-5-haiku-20241022", "claude-3-7-sonnet-20250219",
      "claude-sonnet-4-20250514", "claude-opus-4-20250514", "claude-opus-4-1", "claude-sonnet-4-5",
      "claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001", "claude-opus-4-5", "claude-opus-4-6",
      "claude-sonnet-4-6", "claude-opus-4-7", "claude-opus-4-8", "claude-sonnet-5", "claude-opus-5", "claude-fable-5",
      "claude-mythos-5",
      // Google
      "gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.5-flash-lite", "gemini-3-pro-preview", "gemini-3-flash-preview",
      "gemini-3.1-pro-preview", "gemini-3.1-flash-lite-preview", "gemini-3.5-flash", "gemini-3.5-flash-lite",
      "models/gemini-2.5-pro"};
  for (const char* m : required) {
    ModelMatch match = t.lookup(m);
    EXPECT_NE(match.rule, MatchRule::kUnknown) << m;
    if (match.entry) {
      EXPECT_GT(*match.entry->prices.input, 0) << m;
      EXPECT_GT(*match.entry->prices.output, 0) << m;
    }
  }
}

TEST(DefaultTable, SpotChecksAgainstVendorListPrices) {
  // Hand-checked against the vendors' published per-1M prices (picodollars per token = USD/1M x 1e6).
  PriceTable t = PriceTable::load_default();
  auto in = [&](const char* m) { return *t.lookup(m).entry->prices.input; };
  auto out = [&](const char* m) { return *t.lookup(m).entry->prices.output; };
  EXPECT_EQ(in("gpt-4o"), 2500000);
  EXPECT_EQ(out("gpt-4o"), 10000000);
  EXPECT_EQ(*t.lookup("gpt-4o").entry->prices.cached_input, 1250000);
  EXPECT_EQ(in("gpt-4.1"), 2000000);
  EXPECT_EQ(out("gpt-4.1"), 8000000);
  EXPECT_EQ(in("gpt-5"), 1250000);
  EXPECT_EQ(out("gpt-5"), 10000000);
  EXPECT_EQ(in("o3"), 2000000);
  EXPECT_EQ(in("o4-mini"), 1100000);
  EXPECT_EQ(in("claude-sonnet-4-5"), 3000000);
  EXPECT_EQ(*t.lookup("claude-sonnet-4-5").entry->prices.cache_write_5m, 3750000);
  EXPECT_EQ(*t.lookup("claude-sonnet-4-5").entry->prices.cache_write_1h, 6000000);
  EXPECT_EQ(*t.lookup("claude-sonnet-4-5").entry->prices.cached_input, 300000);
  EXPECT_EQ(in("claude-opus-4-1"), 15000000);
  EXPECT_EQ(in("claude-haiku-4-5"), 1000000);
  EXPECT_EQ(in("claude-3-5-haiku-latest"), 800000);
  EXPECT_EQ(in("gemini-2.5-pro"), 1250000);
  EXPECT_EQ(out("gemini-2.5-flash"), 2500000);
}

TEST(DefaultTable, RegexCoversOtherGemini25ProPreviews) {
  PriceTable t = PriceTable::load_default();
  ModelMatch m = t.lookup("gemini-2.5-pro-preview-07-15");
  EXPECT_EQ(m.rule, MatchRule::kRegex);
  ASSERT_NE(m.entry, nullptr);
  EXPECT_EQ(m.entry->id, "gemini-2.5-pro-preview-06-05");
  EXPECT_EQ(t.lookup("gemini-2.5-pro-preview-05-06").rule, MatchRule::kAlias);
  EXPECT_EQ(t.lookup("gemini-2.5-pro-preview-tts").rule, MatchRule::kUnknown);
}

TEST(DefaultTable, ModelsWithoutPricesStayUnknown) {
  // Named by the SDKs but absent from every source: listed in the table's notes, not invented.
  PriceTable t = PriceTable::load_default();
  for (const char* m : {"claude-haiku-5-5", "claude-opus-5-5", "gpt-5.1-mini", "gpt-4o-audio-preview"}) {
    EXPECT_EQ(t.lookup(m).rule, MatchRule::kUnknown) << m;
  }
  bool noted = false;
  for (const auto& n : t.notes()) noted = noted || n.find("claude-haiku-5-5") != std::string::npos;
  EXPECT_TRUE(noted);
}

}  // namespace
}  // namespace llmtap
