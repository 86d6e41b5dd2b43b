// The small containers open traces are kept in: CompactVector, shared CompactString blocks,
// SharedStrings, BoxedOptional, SpanNode's usage/agent union and SpanTree's single-call form.
#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <vector>

#include "trace/boxed_optional.h"
#include "trace/compact_vector.h"
#include "trace/flat_map.h"
#include "trace/generation_span.h"
#include "trace/shared_strings.h"
#include "trace/span_tree.h"
#include "trace/trace_test_util.h"

namespace llmtap::trace {
namespace {

TEST(CompactVector, BehavesLikeAVectorInEightBytes) {
  static_assert(sizeof(CompactVector<std::string>) == sizeof(void*));
  CompactVector<std::string> v;
  EXPECT_TRUE(v.empty());
  for (int i = 0; i < 40; ++i) v.push_back(std::to_string(i) + std::string(20, 'x'));  // non-trivial, grows
  ASSERT_EQ(v.size(), 40u);
  EXPECT_EQ(v.front(), "0" + std::string(20, 'x'));
  EXPECT_EQ(v.back(), "39" + std::string(20, 'x'));
  v.erase(v.begin() + 1, v.begin() + 39);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[1], "39" + std::string(20, 'x'));
  v.insert(v.begin() + 1, "mid");
  EXPECT_EQ(v[1], "mid");
  CompactVector<std::string> copy = v;
  EXPECT_TRUE(copy == v);
  CompactVector<std::string> moved = std::move(copy);
  EXPECT_TRUE(copy.empty());  // NOLINT: moved-from is empty by contract
  EXPECT_EQ(moved.size(), 3u);
  while (!moved.empty()) moved.erase(moved.begin());
  EXPECT_EQ(moved.capacity(), 0u);  // the block is freed with the last element
  CompactVector<int> from = std::vector<int>{3, 1, 2};
  EXPECT_EQ(from.capacity(), 3u);
  EXPECT_EQ(from[2], 2);
}

TEST(CompactVector, OneSmallElementInItsOwnWordBehavesTheSame) {
  CompactVector<int> v;
  v.push_back(7);
  EXPECT_EQ(v.size(), 1u);
  EXPECT_EQ(v.capacity(), 1u);
  EXPECT_EQ(v.front(), 7);
  v.front() = 8;  // the element is addressable where it is kept
  EXPECT_EQ(*v.begin(), 8);
  CompactVector<int> copy = v;
  CompactVector<int> moved = std::move(copy);
  EXPECT_TRUE(copy.empty());  // NOLINT: moved-from is empty by contract
  EXPECT_EQ(moved[0], 8);
  v.push_back(9);  // a second one: into a block
  v.push_back(10);
  EXPECT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0], 8);
  EXPECT_EQ(v[2], 10);
  v.erase(v.begin() + 1, v.end());
  v.shrink_to_fit();  // back into the word
  EXPECT_EQ(v.size(), 1u);
  EXPECT_EQ(v.capacity(), 1u);
  EXPECT_EQ(v[0], 8);
  v.insert(v.begin(), 1);
  EXPECT_EQ(v[0], 1);
  EXPECT_EQ(v[1], 8);
  v.erase(v.begin());
  v.erase(v.begin());
  EXPECT_TRUE(v.empty());
  EXPECT_EQ(v.capacity(), 0u);
  CompactVector<int> one = std::vector<int>{5};
  EXPECT_EQ(one, (CompactVector<int>{5}));
  one.erase(one.begin());
  EXPECT_TRUE(one.empty());
}

TEST(FlatMap, SortedOnACompactVector) {
  FlatMap<std::uint64_t, CompactString> m;
  for (std::uint64_t k : {5u, 1u, 9u, 3u}) m.emplace(k, std::to_string(k));
  std::vector<std::uint64_t> keys;
  for (const auto& [k, v] : m) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::uint64_t>{1, 3, 5, 9}));
  EXPECT_EQ(m.erase(3), 1u);
  EXPECT_EQ(m.find(3), m.end());
  EXPECT_EQ(m.find(9)->second.view(), "9");
}

TEST(CompactString, CopiesShareOneBlockAndStayImmutable) {
  CompactString a("fingerprint-0123456789");
  CompactString b = a;
  EXPECT_EQ(a.view().data(), b.view().data());  // one block
  b = "other";
  EXPECT_EQ(a.view(), "fingerprint-0123456789");
  EXPECT_EQ(b.view(), "other");
  a = a.view().substr(0, 11);  // from its own bytes
  EXPECT_EQ(a.view(), "fingerprint");
  CompactString c = std::move(a);
  EXPECT_TRUE(a.empty());  // NOLINT
  EXPECT_EQ(c.view(), "fingerprint");
}

TEST(SharedStrings, SameTextSameBlockWithinTheBound) {
  SharedStrings pool(2);
  CompactString x = pool.get("agent-a");
  EXPECT_EQ(pool.get("agent-a").view().data(), x.view().data());
  pool.get("agent-b");
  pool.get("agent-c");  // past the bound: forgotten, still valid where held
  EXPECT_EQ(x.view(), "agent-a");
  EXPECT_TRUE(pool.get("").empty());
}

TEST(BoxedOptional, EmptyUntilSetAndDeepCopied) {
  static_assert(sizeof(BoxedOptional<std::pair<std::uint64_t, int>>) == sizeof(void*));
  BoxedOptional<std::string> o;
  EXPECT_FALSE(o);
  o = std::string("x");
  BoxedOptional<std::string> c = o;
  *o = "y";
  EXPECT_EQ(*c, "x");
}

TEST(SpanNode, UsageAndAgentShareTheirBytes) {
  SpanNode agent;
  agent.agent().fp = "fp";
  agent.agent().handoff = std::make_unique<HandoffEnds>();
  EXPECT_EQ(agent.input_tokens(), 0);
  EXPECT_NE(agent.handoff(), nullptr);
  SpanNode gen;
  gen.usage().input_tokens = 7;
  gen.usage().cost.prompt = 11;
  EXPECT_TRUE(gen.agent_fp().empty());
  EXPECT_EQ(gen.handoff(), nullptr);
  SpanNode moved = std::move(gen);
  EXPECT_EQ(moved.input_tokens(), 7);
  EXPECT_EQ(moved.cost().prompt, 11);
  const SpanNode copy = agent.clone();
  EXPECT_EQ(copy.agent_fp().view(), "fp");
  ASSERT_NE(copy.handoff(), nullptr);
  EXPECT_NE(copy.handoff(), agent.handoff());  // deep-copied
  moved = std::move(agent);
  EXPECT_EQ(moved.input_tokens(), 0);
  EXPECT_EQ(moved.agent_fp().view(), "fp");
}

// The nodes a single call's trace is made of, as TraceAssembler makes them.
std::vector<SpanNode> single_call_nodes(const ModelCall& call, bool error) {
  std::vector<SpanNode> out;
  out.push_back(make_node(SpanKind::kWorkflow, call.timings.request_start, -1, "CHAIN"));
  SpanNode a = make_node(SpanKind::kAgent, call.timings.request_start, 0, "AGENT");
  a.span.set("gen_ai.operation.name", std::string("invoke_agent"));
  a.agent().fp = "fp-1";
  a.agent().fallback_name = "Helpful Assistant";
  a.fallback_source = "derived";
  out.push_back(std::move(a));
  testing::FakePricer pricer;
  const PricedCall priced = pricer.price(call);
  SpanNode g = generation_node(call, &priced, false);
  g.parent = 1;
  g.span.error = error;
  out.push_back(std::move(g));
  return out;
}

void expect_same_spans(const Trace& a, const Trace& b) {
  auto fields = [](const Span& s) {
    return std::tie(s.span_id, s.parent_span_id, s.name, s.kind, s.start_ns, s.end_ns, s.error, s.status_message);
  };
  ASSERT_EQ(a.spans.size(), b.spans.size());
  for (std::size_t i = 0; i < a.spans.size(); ++i) {
    EXPECT_EQ(fields(a.spans[i]), fields(b.spans[i]));
    ASSERT_EQ(a.spans[i].attributes.size(), b.spans[i].attributes.size()) << a.spans[i].name;
    for (std::size_t j = 0; j < a.spans[i].attributes.size(); ++j) {
      const Attribute &x = a.spans[i].attributes[j], &y = b.spans[i].attributes[j];
      EXPECT_EQ(std::tie(x.key, x.value), std::tie(y.key, y.value));
    }
  }
}

TEST(SpanTree, ASingleCallIsHeldAsOneBlockAndGivesTheSameNodesAndTrace) {
  for (bool error : {false, true}) {
    const ModelCall call = testing::distinct_chat_call(3, testing::kT0);
    std::vector<SpanNode> nodes = single_call_nodes(call, error);
    SpanTree single, general;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      single.add(nodes[i].clone());
      general.add(nodes[i].clone());
      if (i == 0) (void)general.at(0);  // an access makes a tree general
    }
    EXPECT_TRUE(single.single_call_form());
    EXPECT_FALSE(general.single_call_form());
    EXPECT_EQ(single.size(), 3);
    EXPECT_EQ(single.latest_time(), general.latest_time());
    TraceIdentity id;
    id.trace_id = std::string(32, 'a');
    id.workflow_name = "llmtap";
    const Trace a = single.finish(id, nullptr);
    const Trace b = general.finish(id, nullptr);
    expect_same_spans(a, b);
    ASSERT_EQ(a.spans.size(), 3u);
    EXPECT_EQ(a.spans[2].error, error);
    EXPECT_EQ(a.spans[1].name, "invoke_agent Helpful Assistant");
  }
}

TEST(SpanTree, AnotherNodeOrAnAccessMakesItGeneralWithTheNodesAsAdded) {
  const ModelCall call = testing::distinct_chat_call(4, testing::kT0);
  std::vector<SpanNode> nodes = single_call_nodes(call, false);
  SpanTree tree;
  for (auto& n : nodes) tree.add(n.clone());
  ASSERT_TRUE(tree.single_call_form());
  SpanNode tool = make_node(SpanKind::kTool, call.timings.response_end, 1, "TOOL");
  tool.open = true;
  EXPECT_EQ(tree.add(std::move(tool)), 3);
  EXPECT_FALSE(tree.single_call_form());
  ASSERT_EQ(tree.size(), 4);
  for (int i = 0; i < 3; ++i) {
    const SpanNode& got = tree.at(i);
    const SpanNode& want = nodes[static_cast<std::size_t>(i)];
    EXPECT_EQ(got.parent, want.parent);
    EXPECT_EQ(got.span.span_id.str(), want.span.span_id.str());
    EXPECT_EQ(got.span.kind, want.span.kind);
    EXPECT_EQ(got.span.start_ns, want.span.start_ns);
    EXPECT_EQ(got.span.end_ns, want.span.end_ns);
    EXPECT_TRUE(got.span.name == want.span.name);
    EXPECT_EQ(got.span.encoded_attributes(), want.span.encoded_attributes());
    EXPECT_EQ(got.priced, want.priced);
    EXPECT_EQ(got.counts_as_generation, want.counts_as_generation);
    EXPECT_EQ(got.unpriced, want.unpriced);
    EXPECT_EQ(got.input_tokens(), want.input_tokens());
    EXPECT_EQ(got.output_tokens(), want.output_tokens());
    EXPECT_EQ(got.cost().prompt, want.cost().prompt);
    EXPECT_EQ(got.cost().completion, want.cost().completion);
    EXPECT_TRUE(got.agent_fp() == want.agent_fp());
    EXPECT_TRUE(got.fallback_name() == want.fallback_name());
    EXPECT_STREQ(static_cast<const char*>(got.fallback_source), static_cast<const char*>(want.fallback_source));
  }
  // A generation with a status message is not kept in the block; nor is a second agent.
  std::vector<SpanNode> failed = single_call_nodes(call, true);
  failed[2].span.status_message = "HTTP 500";
  SpanTree with_message;
  for (auto& n : failed) with_message.add(std::move(n));
  EXPECT_FALSE(with_message.single_call_form());
  EXPECT_EQ(with_message.at(2).span.status_message.view(), "HTTP 500");
  SpanTree moved = std::move(tree);
  EXPECT_EQ(moved.size(), 4);
  EXPECT_EQ(tree.size(), 0);  // NOLINT: moved-from is empty
}

TEST(OpenSpan, CostsKeptAsPicodollarsReadAsTheDoubles) {
  OpenSpan s;
  s.set_usd("llm.cost.total", 685'000'000);
  s.set_usd("llm.cost.prompt", -3);
  s.set("llm.cost.total", 0.5);  // replaces, in place
  s.set_usd("llm.cost.completion", std::int64_t{1} << 62);
  s.shrink();
  const Span out = s.to_span();
  ASSERT_EQ(out.attributes.size(), 3u);
  EXPECT_EQ(std::get<double>(out.attributes[0].value), 0.5);
  EXPECT_EQ(std::get<double>(out.attributes[1].value), pico_to_usd(-3));
  EXPECT_EQ(std::get<double>(out.attributes[2].value), pico_to_usd(std::int64_t{1} << 62));
  OpenSpan t;
  t.set_usd("llm.cost.total", 685'000'000);
  EXPECT_EQ(std::get<double>(t.to_span().attributes[0].value), pico_to_usd(685'000'000));
}

}  // namespace
}  // namespace llmtap::trace
