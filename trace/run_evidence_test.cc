#include "trace/run_evidence.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "trace/trace_test_util.h"

namespace llmtap::trace {
namespace {

using testing::assistant;
using testing::call;
using testing::tool_result;
using testing::user;

TEST(RunEvidence, UserContentComparesSplitAndMergedTurnsAlike) {
  const std::string context = "<session_context>\nThis is the CLI. Today is Tuesday.\n</session_context>";
  const std::string prompt = "Please run `echo hi` in the shell, then read notes.txt.";
  // The router sends the context and the prompt as two messages; the main loop merges them into one.
  const auto split = user_content_keys({user(context), user(prompt)});
  const auto merged = user_content_keys({user(context + prompt), assistant("ok"), tool_result("c1", "done")});
  ASSERT_FALSE(split.empty());
  ASSERT_FALSE(merged.empty());
  EXPECT_EQ(split.front(), merged.front());
  EXPECT_EQ(merged.size(), 1u);
  // The split one is also indexed by its last message alone (a router's window of the latest turns).
  EXPECT_NE(std::find(split.begin(), split.end(), text_key(prompt)), split.end());
  // Model turns between the user's do not change the joined user content.
  const auto with_model = user_content_keys({user(context), assistant("Got it."), user(prompt)});
  EXPECT_EQ(with_model.front(), split.front());
  // A short last message ("yes") is no key of its own: it would match unrelated runs.
  const auto short_tail = user_content_keys({user(prompt), assistant("Run it?"), user("yes")});
  EXPECT_EQ(std::find(short_tail.begin(), short_tail.end(), text_key("yes")), short_tail.end());
  EXPECT_TRUE(user_content_keys({assistant("hi"), tool_result("c", "x")}).empty());
  // At most the whole and four suffixes, whatever the history's length.
  std::vector<Message> long_history;
  for (int i = 0; i < 100; ++i) long_history.push_back(user("a user message long enough number " + std::to_string(i)));
  EXPECT_LE(user_content_keys(long_history).size(), 5u);
}

// first_user_key() takes KEYS[0] only where it equals keying the first user message's text.
TEST(RunEvidence, FirstUserKeyIsTheFirstUserMessagesTextKey) {
  Message calling = assistant("", {call("c1", "lookup")});
  calling.role = "user";  // a user message carrying tool calls is no user text
  const std::vector<std::vector<Message>> inputs = {
      {user("  Weather in Paris?\n")},
      {user("Weather in Paris?"), assistant("Sunny."), user("And in Rome?")},
      {user("   "), user("Weather in Paris?")},
      {tool_result("c1", "done"), user("Thanks, now summarize.")},
      {calling, user("Weather in Paris?")},
      {assistant("Hello")},
      {},
  };
  for (std::size_t i = 0; i < inputs.size(); ++i)
    EXPECT_EQ(first_user_key(inputs[i], user_content_keys(inputs[i])), text_key(first_user_text(inputs[i]))) << i;
  EXPECT_NE(first_user_key(inputs[1], user_content_keys(inputs[1])), user_content_keys(inputs[1]).front());
}

TEST(RunEvidence, GuardrailVerdictsByTheTable) {
  EXPECT_EQ(guardrail_verdict_tripped(R"({"flagged": true, "reason": "mentions internal"})"), true);
  EXPECT_EQ(guardrail_verdict_tripped(R"({"flagged": false, "reason": "nothing to flag"})"), false);
  EXPECT_EQ(guardrail_verdict_tripped(R"({"is_safe": false})"), true);  // a passing name, false
  EXPECT_EQ(guardrail_verdict_tripped(R"({"Tripwire-Triggered": true})"), true);
  EXPECT_EQ(guardrail_verdict_tripped("```json\n{\"off_topic\": true}\n```"), true);
  EXPECT_EQ(guardrail_verdict_tripped(R"({"leak": false, "safe": true})"), false);  // both say pass
  EXPECT_FALSE(guardrail_verdict_tripped(R"({"leak": true, "safe": true})").has_value());  // they disagree
  EXPECT_FALSE(guardrail_verdict_tripped(R"({"flagged": "yes"})").has_value());  // not a boolean
  EXPECT_FALSE(guardrail_verdict_tripped(R"({"answer": true})").has_value());    // no verdict name
  EXPECT_FALSE(guardrail_verdict_tripped(R"({"data": {"flagged": true}})").has_value());  // top level only
  EXPECT_FALSE(guardrail_verdict_tripped("The answer is flagged: true").has_value());
  EXPECT_FALSE(guardrail_verdict_tripped("{not json").has_value());
  EXPECT_FALSE(guardrail_verdict_tripped("{\"flagged\": true, \"pad\": \"" + std::string(20000, 'x') + "\"}").has_value());
}

TEST(RunEvidence, CarriedTextIsFoundInsideALongerMessage) {
  const std::string summary =
      "<summary>\n1. Primary Request and Intent: check the workspace (echo, read notes.txt).\n"
      "2. Pending Tasks: none.\n</summary>";
  const std::string message = "This session is being continued from a previous conversation.\n\n" + summary +
                              "\nPlease continue.";
  const std::uint64_t key = carried_key(summary);
  ASSERT_NE(key, 0u);
  EXPECT_TRUE(find_carried_keys(message, [&](std::uint64_t k) { return k == key; }));
  // Whitespace does not matter; the text does.
  std::string reflowed = message;
  std::replace(reflowed.begin(), reflowed.end(), '\n', ' ');
  EXPECT_TRUE(find_carried_keys(reflowed, [&](std::uint64_t k) { return k == key; }));
  EXPECT_TRUE(carries_text(reflowed, summary));
  std::string changed = message;
  changed[changed.find("Primary")] = 'p';
  EXPECT_FALSE(carries_text(changed, summary));
  EXPECT_FALSE(find_carried_keys(changed, [&](std::uint64_t k) { return k == key; }));
  // Too short to be evidence.
  EXPECT_EQ(carried_key("Order 2001 is delivered."), 0u);
  EXPECT_FALSE(find_carried_keys("short", [](std::uint64_t) { return true; }));
  EXPECT_EQ(text_chars(" a b\nc\t"), 3u);
}

TEST(RunEvidence, ArgumentsCarryTheirStringValuesVerbatim) {
  EXPECT_TRUE(arguments_carry(R"({"input":"hello"})", "hello"));
  EXPECT_TRUE(arguments_carry(R"({"task":"Research topic A\nfor me"})", "Research topic A for me"));  // whitespace
  EXPECT_TRUE(arguments_carry(R"({"a":{"b":["x","deep text"]}})", "deep text"));
  EXPECT_TRUE(arguments_carry("plain prompt", "plain prompt"));  // not JSON: the whole arguments
  EXPECT_FALSE(arguments_carry(R"({"input":"hello world"})", "hello"));  // a part is not verbatim
  EXPECT_FALSE(arguments_carry(R"({"input":"hello"})", ""));
  EXPECT_FALSE(arguments_carry(R"({"n":42})", "42"));  // only string values
}

TEST(RunEvidence, DeepOrHugeArgumentsStayBounded) {
  std::string deep(100000, '[');
  EXPECT_FALSE(arguments_carry(deep, "x"));
  std::string many = "[";
  for (int i = 0; i < 10000; ++i) many += "\"v" + std::to_string(i) + "\",";
  many += "\"last\"]";
  EXPECT_LE(argument_text_keys(many).size(), 65u);
  EXPECT_FALSE(arguments_carry(many, "last"));  // past the bound: not searched
}

TEST(RunEvidence, CarriesOutput) {
  EXPECT_TRUE(carries_output("  bonjour ", "bonjour"));
  EXPECT_TRUE(carries_output("Result: the invoice is 42 dollars.", "the invoice is 42 dollars."));
  EXPECT_FALSE(carries_output("Result: ok", "ok"));  // short texts only when equal
  EXPECT_FALSE(carries_output("anything", ""));
}

}  // namespace
}  // namespace llmtap::trace
