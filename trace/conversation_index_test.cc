#include "trace/conversation_index.h"

#include <gtest/gtest.h>

#include <vector>

namespace llmtap::trace {
namespace {

std::vector<std::uint64_t> under(const ConversationIndex& index, std::uint64_t key) {
  std::vector<std::uint64_t> out;
  index.for_each(key, [&](std::uint64_t conv) {
    out.push_back(conv);
    return true;
  });
  return out;
}

TEST(ConversationIndex, OneConversationPerKey) {
  ConversationIndex index;
  index.add(7, 1);
  index.add(8, 2);
  EXPECT_EQ(under(index, 7), (std::vector<std::uint64_t>{1}));
  EXPECT_EQ(under(index, 8), (std::vector<std::uint64_t>{2}));
  EXPECT_TRUE(under(index, 9).empty());
  index.erase(7, 2);  // another conversation's entry: nothing removed
  EXPECT_EQ(under(index, 7), (std::vector<std::uint64_t>{1}));
  index.erase(7, 1);
  EXPECT_TRUE(under(index, 7).empty());
}

TEST(ConversationIndex, SharedKeyKeepsEveryConversationOldestFirst) {
  ConversationIndex index;
  for (std::uint64_t c : {5, 3, 9, 1}) index.add(42, c);
  EXPECT_EQ(under(index, 42), (std::vector<std::uint64_t>{1, 3, 5, 9}));
  index.erase(42, 5);
  index.erase(42, 1);
  EXPECT_EQ(under(index, 42), (std::vector<std::uint64_t>{3, 9}));
  index.erase(42, 3);
  index.erase(42, 9);
  EXPECT_TRUE(under(index, 42).empty());
  index.add(42, 11);  // the key is free again: back to one slot
  EXPECT_EQ(under(index, 42), (std::vector<std::uint64_t>{11}));
}

TEST(ConversationIndex, VisitStopsWhenAsked) {
  ConversationIndex index;
  for (std::uint64_t c = 1; c <= 100; ++c) index.add(1, c);
  int visited = 0;
  index.for_each(1, [&](std::uint64_t) { return ++visited < 3; });
  EXPECT_EQ(visited, 3);
}

TEST(ConversationIndex, LargeIdsSurviveTheTagBit) {
  ConversationIndex index;
  const std::uint64_t big = (std::uint64_t{1} << 62) + 12345;
  index.add(3, big);
  EXPECT_EQ(under(index, 3), (std::vector<std::uint64_t>{big}));
  index.add(3, big + 1);
  EXPECT_EQ(under(index, 3), (std::vector<std::uint64_t>{big, big + 1}));
}

}  // namespace
}  // namespace llmtap::trace
