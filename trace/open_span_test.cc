// OpenSpan keeps what Span would: every attribute type, replacement in place, keys past the
// intern table, ids and strings.
#include <gtest/gtest.h>

#include <limits>
#include <type_traits>
#include <vector>

#include "trace/open_span.h"
#include "trace/span_tree.h"

namespace llmtap::trace {
namespace {

TEST(OpenSpan, BecomesTheSpanItWasBuiltAs) {
  OpenSpan o;
  o.span_id = std::string("0123456789abcdef");
  o.name = std::string("chat gpt-test");
  o.kind = SpanKind::kTool;
  o.start_ns = 5;
  o.end_ns = 9;
  o.error = true;
  o.status_message = std::string("tool reported an error");
  o.set("gen_ai.tool.name", std::string("get_weather"));
  o.set("gen_ai.usage.input_tokens", std::int64_t{123456789012});
  o.set("llm.cost.total", 0.25);
  o.set("llmtap.tool.rejected", true);
  o.set("gen_ai.response.finish_reasons", std::vector<std::string>{"stop", "", "length"});
  o.set("empty", std::string());
  o.shrink();
  o.set("gen_ai.tool.name", std::string("get_forecast"));  // after shrink(): replaced in place

  const Span s = o.to_span();
  EXPECT_EQ(s.span_id, "0123456789abcdef");
  EXPECT_EQ(s.name, "chat gpt-test");
  EXPECT_EQ(s.kind, SpanKind::kTool);
  EXPECT_EQ(s.start_ns, 5);
  EXPECT_EQ(s.end_ns, 9);
  EXPECT_TRUE(s.error);
  EXPECT_EQ(s.status_message, "tool reported an error");
  ASSERT_EQ(s.attributes.size(), 6u);
  EXPECT_EQ(s.attributes[0].key, "gen_ai.tool.name");
  EXPECT_EQ(std::get<std::string>(s.attributes[0].value), "get_forecast");
  EXPECT_EQ(std::get<std::int64_t>(s.attributes[1].value), 123456789012);
  EXPECT_EQ(std::get<double>(s.attributes[2].value), 0.25);
  EXPECT_EQ(std::get<bool>(s.attributes[3].value), true);
  EXPECT_EQ(std::get<std::vector<std::string>>(s.attributes[4].value),
            (std::vector<std::string>{"stop", "", "length"}));
  EXPECT_EQ(s.attributes[5].key, "empty");
  EXPECT_EQ(std::get<std::string>(s.attributes[5].value), "");
}

TEST(OpenSpan, ASetOfAKeySetBeforeReplacesItWhileBuildingWhateverKeysShareItsBit) {
  // A new key is appended without a search (its id's bit is clear); a key set before, or one whose
  // bit another key set, is searched for and replaced in place.
  OpenSpan o;
  for (int i = 0; i < 130; ++i) o.set("llmtap.test.bit" + std::to_string(i), std::int64_t{i});
  for (int i = 0; i < 130; i += 7) o.set("llmtap.test.bit" + std::to_string(i), std::int64_t{-i});
  o.set("llmtap.test.bit129", std::string("last"));
  ASSERT_NE(attribute_key_id("llmtap.test.bit129"), kUninternedKey);  // before the table is filled below
  const Span s = o.to_span();
  ASSERT_EQ(s.attributes.size(), 130u);
  for (int i = 0; i < 129; ++i) {
    ASSERT_EQ(s.attributes[static_cast<std::size_t>(i)].key, "llmtap.test.bit" + std::to_string(i));
    ASSERT_EQ(std::get<std::int64_t>(s.attributes[static_cast<std::size_t>(i)].value), i % 7 == 0 ? -i : i);
  }
  EXPECT_EQ(std::get<std::string>(s.attributes.back().value), "last");
}

TEST(OpenSpan, KeysPastTheInternTableAreKeptInline) {
  OpenSpan o;
  for (int i = 0; i < 5000; ++i) o.set("llmtap.metadata.k" + std::to_string(i), std::to_string(i));
  o.set("llmtap.metadata.k4999", std::string("last"));
  const Span s = o.to_span();
  ASSERT_EQ(s.attributes.size(), 5000u);
  for (int i = 0; i < 4999; ++i) {
    ASSERT_EQ(s.attributes[static_cast<std::size_t>(i)].key, "llmtap.metadata.k" + std::to_string(i));
    ASSERT_EQ(std::get<std::string>(s.attributes[static_cast<std::size_t>(i)].value), std::to_string(i));
  }
  EXPECT_EQ(std::get<std::string>(s.attributes.back().value), "last");
  EXPECT_EQ(attribute_key_id("llmtap.metadata.k4999"), kUninternedKey);
}

TEST(OpenSpan, FromSpanOfRepeatedKeysKeepsTheFirstPlaceAndTheLastValue) {
  // from_span() writes entries straight into the blob; a repeated key, interned or inline, still
  // reads as Span::set leaves it.
  Span s;
  s.attributes.push_back({"gen_ai.agent.name", std::string("A")});
  s.attributes.push_back({"llmtap.metadata.k4990", std::string("x")});  // inline (the table is full)
  s.attributes.push_back({"gen_ai.usage.input_tokens", std::int64_t{1}});
  s.attributes.push_back({"gen_ai.agent.name", std::string("B")});
  s.attributes.push_back({"llmtap.metadata.k4990", std::string("y")});
  for (int i = 0; i < 5000; ++i) (void)attribute_key_id("llmtap.metadata.k" + std::to_string(i));
  ASSERT_EQ(attribute_key_id("llmtap.metadata.k4990"), kUninternedKey);
  const Span back = OpenSpan::from_span(s).to_span();
  ASSERT_EQ(back.attributes.size(), 3u);
  EXPECT_EQ(back.attributes[0].key, "gen_ai.agent.name");
  EXPECT_EQ(std::get<std::string>(back.attributes[0].value), "B");
  EXPECT_EQ(back.attributes[1].key, "llmtap.metadata.k4990");
  EXPECT_EQ(std::get<std::string>(back.attributes[1].value), "y");
  EXPECT_EQ(std::get<std::int64_t>(back.attributes[2].value), 1);
}

TEST(CompactString, ReadsLikeTheStringItHolds) {
  CompactString a;
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(a.str(), "");
  a = std::string("Triage Agent");
  CompactString b = a;
  EXPECT_EQ(b, std::string("Triage Agent"));
  EXPECT_EQ(std::string(b), "Triage Agent");
  b = "";
  EXPECT_TRUE(b.empty());
  EXPECT_NE(std::string("x"), a);
}

TEST(OpenSpan, IntegersOfEverySizeRoundTrip) {
  OpenSpan o;
  const std::int64_t values[] = {0, 1, -1, 63, -64, 64, 300, -300, std::numeric_limits<std::int64_t>::max(),
                                 std::numeric_limits<std::int64_t>::min()};
  for (std::size_t i = 0; i < std::size(values); ++i) o.set("llmtap.test.int" + std::to_string(i), values[i]);
  o.shrink();
  const Span s = o.to_span();
  ASSERT_EQ(s.attributes.size(), std::size(values));
  for (std::size_t i = 0; i < std::size(values); ++i) EXPECT_EQ(std::get<std::int64_t>(s.attributes[i].value), values[i]);
}

TEST(OpenSpan, FewValuedAttributesKeepTheirValuesPastTheValueTable) {
  // gen_ai.request.model's values are interned; many distinct models fill the table, and the
  // rest are kept inline: every span still reads back its own value.
  std::vector<OpenSpan> spans(6000);
  for (std::size_t i = 0; i < spans.size(); ++i) {
    spans[i].set("gen_ai.request.model", "model-" + std::to_string(i));
    spans[i].set("gen_ai.response.id", std::string("chatcmpl-1"));  // not interned, same value
    spans[i].shrink();
  }
  spans[7].set("gen_ai.request.model", std::string("model-replaced"));
  spans[7].set("gen_ai.request.model", std::string(200, 'm'));  // longer than any interned value
  for (std::size_t i = 0; i < spans.size(); ++i) {
    const Span s = spans[i].to_span();
    ASSERT_EQ(s.attributes.size(), 2u);
    const std::string want = i == 7 ? std::string(200, 'm') : "model-" + std::to_string(i);
    ASSERT_EQ(std::get<std::string>(s.attributes[0].value), want);
    ASSERT_EQ(std::get<std::string>(s.attributes[1].value), "chatcmpl-1");
  }
}

TEST(OpenSpan, SpanIdsReadBackAsWritten) {
  OpenSpan o;
  for (const char* id : {"0000000000000000", "ffffffffffffffff", "00f1e2d3c4b5a697", "8000000000000001"}) {
    o.span_id = std::string(id);
    EXPECT_EQ(o.to_span().span_id, id);
  }
}

// A closed trace's skeleton (trace_continuation.cc) copies spans on purpose and keeps the spans
// it emitted compact again: nothing else copies one by accident.
static_assert(!std::is_convertible_v<const OpenSpan&, OpenSpan>, "OpenSpan copies only explicitly");
static_assert(!std::is_copy_assignable_v<OpenSpan>);
static_assert(!std::is_copy_constructible_v<SpanNode>, "SpanNode copies only through clone()");

TEST(OpenSpan, ExplicitCopyAndFromSpanKeepEverything) {
  OpenSpan o;
  o.span_id = std::string("0123456789abcdef");
  o.name = std::string("invoke_agent Refunds");
  o.kind = SpanKind::kAgent;
  o.start_ns = 5;
  o.end_ns = 9;
  o.set("gen_ai.agent.name", std::string("Refunds"));
  o.set("gen_ai.usage.input_tokens", std::int64_t{42});
  o.set("gen_ai.response.finish_reasons", std::vector<std::string>{"stop"});
  o.set("llmtap.tool.rejected", true);
  const OpenSpan copy(o);  // before shrink(): the copy holds the attributes being built
  o.shrink();
  const Span original = o.to_span();
  for (const Span& s : {copy.to_span(), OpenSpan::from_span(original).to_span()}) {
    EXPECT_EQ(s.span_id, original.span_id);
    EXPECT_EQ(s.name, original.name);
    EXPECT_EQ(s.kind, original.kind);
    EXPECT_EQ(s.start_ns, original.start_ns);
    EXPECT_EQ(s.end_ns, original.end_ns);
    ASSERT_EQ(s.attributes.size(), original.attributes.size());
    for (std::size_t i = 0; i < s.attributes.size(); ++i) {
      EXPECT_EQ(s.attributes[i].key, original.attributes[i].key);
      EXPECT_EQ(s.attributes[i].value, original.attributes[i].value);
    }
  }
  SpanNode n;
  n.span = OpenSpan::from_span(original);
  n.parent = 3;
  n.agent().fp = std::string("fp");
  const SpanNode c = n.clone();
  EXPECT_EQ(c.parent, 3);
  EXPECT_EQ(c.agent_fp().view(), "fp");
  EXPECT_EQ(c.span.to_span().name, original.name);
}

}  // namespace
}  // namespace llmtap::trace
