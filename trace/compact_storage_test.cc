// The small containers open traces are kept in: CompactVector, shared CompactString blocks,
// SharedStrings, BoxedOptional and SpanNode's usage/agent union.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "trace/boxed_optional.h"
#include "trace/compact_vector.h"
#include "trace/flat_map.h"
#include "trace/shared_strings.h"
#include "trace/span_tree.h"

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

}  // namespace
}  // namespace llmtap::trace
