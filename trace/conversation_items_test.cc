#include "trace/conversation_items.h"

#include <gtest/gtest.h>

namespace llmtap::trace {
namespace {

Message msg(std::string role, std::string text, std::vector<ToolCall> calls = {}, std::string answers = "") {
  return Message{std::move(role), std::move(text), "", std::move(calls), std::move(answers), "", false};
}

TEST(ConversationItems, SystemMessagesAndReasoningAreNotItems) {
  Message reasoning = msg("assistant", "");
  reasoning.reasoning = "thinking";
  auto a = conversation_items({msg("system", "A"), msg("user", "hi"), reasoning}, true);
  auto b = conversation_items({msg("developer", "B"), msg("user", "hi")}, true);
  ASSERT_EQ(a.items.size(), 1u);
  EXPECT_EQ(a.prefix.back(), b.prefix.back());
}

TEST(ConversationItems, AssistantGroupingDoesNotMatter) {
  // Chat: one message with text and two calls; Responses: three items.
  auto chat = conversation_items({msg("user", "q"), msg("assistant", "ok", {{"c1", "f", "{}"}, {"c2", "g", "{}"}})}, true);
  auto resp = conversation_items(
      {msg("user", "q"), msg("assistant", "ok"), msg("assistant", "", {{"c1", "f", "{\"a\": 1}"}}),
       msg("assistant", "", {{"c2", "g", "{}"}})},
      true);
  EXPECT_EQ(chat.items.size(), 4u);
  EXPECT_EQ(chat.prefix.back(), resp.prefix.back());
  EXPECT_EQ(resp.items[2].message, 2u);
  EXPECT_EQ(resp.items[2].kind, ItemKind::kToolCall);
}

TEST(ConversationItems, DistinguishesWhatMatters) {
  auto base = conversation_items({msg("user", "Paris")}, true).prefix.back();
  EXPECT_NE(base, conversation_items({msg("user", "Rome")}, true).prefix.back());
  EXPECT_NE(base, conversation_items({msg("assistant", "Paris")}, true).prefix.back());
  EXPECT_EQ(base, conversation_items({msg("user", "  Paris\n")}, true).prefix.back());
  // Parts joined with a newline on one side and nothing on the other.
  EXPECT_EQ(conversation_items({msg("assistant", "Hello\nworld")}, true).prefix.back(),
            conversation_items({msg("assistant", "Helloworld")}, true).prefix.back());
  auto call_a = conversation_items({msg("assistant", "", {{"id_a", "f", "{}"}})}, true).prefix.back();
  auto call_b = conversation_items({msg("assistant", "", {{"id_b", "f", "{}"}})}, true).prefix.back();
  EXPECT_NE(call_a, call_b);
  // Unstable ids (Gemini): names only.
  EXPECT_EQ(conversation_items({msg("assistant", "", {{"id_a", "f", "{}"}})}, false).prefix.back(),
            conversation_items({msg("assistant", "", {{"id_b", "f", "{}"}})}, false).prefix.back());
  // Order matters.
  EXPECT_NE(conversation_items({msg("user", "a"), msg("user", "b")}, true).prefix.back(),
            conversation_items({msg("user", "b"), msg("user", "a")}, true).prefix.back());
}

TEST(ConversationItems, PrefixHashesExtend) {
  auto full = conversation_items({msg("user", "a"), msg("assistant", "b"), msg("tool", "r", {}, "c1")}, true);
  auto part = conversation_items({msg("user", "a"), msg("assistant", "b")}, true);
  ASSERT_EQ(full.prefix.size(), 4u);
  EXPECT_EQ(full.prefix[2], part.prefix.back());
  EXPECT_EQ(full.prefix[0], kEmptyConversationHash);
}

TEST(ConversationItems, StableIdsPerApi) {
  ModelCall c;
  c.api = "chat_completions";
  EXPECT_TRUE(stable_call_ids(c));
  c.output = {msg("assistant", "", {{"call_abc", "lookup", "{}"}})};
  EXPECT_TRUE(stable_call_ids(c));
  c.output = {msg("assistant", "", {{"lookup#3", "lookup", "{}"}})};
  EXPECT_FALSE(stable_call_ids(c));
  c.output.clear();
  c.api = "gemini";
  EXPECT_FALSE(stable_call_ids(c));
  c.api = "ollama_chat";
  EXPECT_FALSE(stable_call_ids(c));
}

}  // namespace
}  // namespace llmtap::trace
