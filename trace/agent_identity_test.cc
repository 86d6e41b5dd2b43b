#include "trace/agent_identity.h"

#include <gtest/gtest.h>

namespace llmtap::trace {
namespace {

TEST(AgentIdentity, FingerprintIgnoresToolOrderAndDuplicates) {
  std::vector<ToolDef> a = {{"b", "1"}, {"a", "2"}}, b = {{"a", "x"}, {"b", "y"}, {"a", "z"}};
  EXPECT_EQ(agent_fingerprint("Be nice.", a), agent_fingerprint("Be nice.", b));
  EXPECT_EQ(agent_fingerprint("Be nice.", a).size(), 16u);
  EXPECT_NE(agent_fingerprint("Be nice.", a), agent_fingerprint("Be nicer.", a));
  EXPECT_NE(agent_fingerprint("Be nice.", a), agent_fingerprint("Be nice.", {{"a", ""}}));
  // Tool names are separated, so ["ab"] differs from ["a", "b"].
  EXPECT_NE(agent_fingerprint("", {{"ab", ""}}), agent_fingerprint("", {{"a", ""}, {"b", ""}}));
}

TEST(AgentIdentity, EffectiveInstructionsFallBackToSystemMessages) {
  ModelCall c;
  c.input = {{"system", "One.", "", {}, "", "", false}, {"user", "hi", "", {}, "", "", false},
             {"developer", "Two.", "", {}, "", "", false}};
  EXPECT_EQ(effective_instructions(c), "One.\nTwo.");
  c.system_instructions = "Field.";
  EXPECT_EQ(effective_instructions(c), "Field.");
}

TEST(AgentIdentity, DerivedNames) {
  EXPECT_EQ(derived_agent_name("You are a triage agent. Route requests.", "abcdef12"), "Triage Agent");
  EXPECT_EQ(derived_agent_name("You are an expert travel planning assistant!", "abcdef12"),
            "Expert Travel Planning Assistant");
  EXPECT_EQ(derived_agent_name("You are the Billing Agent", "abcdef12"), "Billing Agent");
  EXPECT_EQ(derived_agent_name("# System context\nYou are part of a multi-agent system called the Agents SDK.\n\n"
                               "You are a refund agent.",
                               "abcdef12"),
            "Refund Agent");
  EXPECT_EQ(derived_agent_name("Answer questions about the weather.", "abcdef12"), "Agent abcdef");
  EXPECT_EQ(derived_agent_name("You are helpful, and you are kind.", "0123456789"), "Agent 012345");
  EXPECT_EQ(derived_agent_name("", "0123456789"), "Agent 012345");
  EXPECT_EQ(derived_agent_name("You are Claude Code, Anthropic's official CLI.", "0123456789"), "Claude Code");
  EXPECT_EQ(derived_agent_name("You are Claude. You are a research agent.", "0123456789"), "Research Agent");
  // An "AI" is a role too (Gemini CLI's router), and an acronym keeps its capitals.
  EXPECT_EQ(derived_agent_name("\nYou are a specialized Task Routing AI. Your sole function is to analyze",
                               "0123456789"),
            "Specialized Task Routing AI");
  EXPECT_EQ(derived_agent_name("You are an SQL expert.", "0123456789"), "SQL Expert");
  EXPECT_EQ(derived_agent_name("You are an AI. Be brief.", "0123456789"), "AI");
}

TEST(AgentIdentity, RulesFirstMatchWins) {
  std::vector<AgentNameRule> rules;
  std::string error;
  ASSERT_TRUE(parse_agent_name_rules(R"({"billing|invoice": "Billing", "invoice": "Invoices"})", rules, error));
  EXPECT_EQ(rule_agent_name(rules, "Handle INVOICE questions").value(), "Billing");
  EXPECT_FALSE(rule_agent_name(rules, "Handle refunds").has_value());
}

// std::regex recursed per character: a 60,000-character system message segfaulted the proxy.
TEST(AgentIdentity, RulesOnOneMegabyteInstructionsWithPathologicalPatterns) {
  std::vector<AgentNameRule> rules;
  std::string error;
  ASSERT_TRUE(parse_agent_name_rules(
      R"([{"pattern": "(a|aa)+b", "name": "Never"}, {"pattern": "(x+x+)+y", "name": "Nor"},
          {"pattern": "triage.*agent", "name": "Triage"}])",
      rules, error))
      << error;
  std::string instructions = "You are the triage " + std::string(1 << 20, 'a') + " agent.";
  EXPECT_EQ(rule_agent_name(rules, instructions).value(), "Triage");
  instructions = std::string(1 << 20, 'a') + std::string(1 << 10, 'x');
  EXPECT_FALSE(rule_agent_name(rules, instructions).has_value());
}

TEST(AgentIdentity, TransferTools) {
  EXPECT_TRUE(is_transfer_tool("transfer_to_Billing_Agent"));
  EXPECT_FALSE(is_transfer_tool("transfer_to_"));
  EXPECT_FALSE(is_transfer_tool("get_transfer_to_x"));
  EXPECT_EQ(transfer_tool_target("transfer_to_Billing_Agent"), "Billing Agent");
  EXPECT_TRUE(transfer_tool_targets("transfer_to_Billing_Agent", "Billing Agent"));
  EXPECT_TRUE(transfer_tool_targets("transfer_to_billing_agent", "Billing Agent"));
  EXPECT_TRUE(transfer_tool_targets("transfer_to_Q_A", "Q&A"));
  EXPECT_FALSE(transfer_tool_targets("transfer_to_Refund_Agent", "Billing Agent"));
  EXPECT_FALSE(transfer_tool_targets("get_Billing_Agent", "Billing Agent"));
  EXPECT_EQ(transfer_result_target("{\"assistant\":\"Billing Agent\"}").value(), "Billing Agent");
  EXPECT_EQ(transfer_result_target(" { \"assistant\" : \"X\" } ").value(), "X");
  EXPECT_FALSE(transfer_result_target("{\"assistant\":\"X\",\"other\":1}").has_value());
  EXPECT_FALSE(transfer_result_target("assistant").has_value());
  EXPECT_FALSE(transfer_result_target("{\"assistant\":3}").has_value());
}

TEST(AgentIdentity, ToolResultErrorRule) {
  auto result = [](std::string text, bool flag = false) { return Message{"tool", std::move(text), "", {}, "c", "", flag}; };
  EXPECT_TRUE(tool_result_is_error(result("anything", true)));
  EXPECT_TRUE(tool_result_is_error(result("{\"error\": \"boom\"}")));
  EXPECT_TRUE(tool_result_is_error(result("{\"error\": {\"code\": 3}}")));
  EXPECT_TRUE(tool_result_is_error(result("{\"error\": true}")));
  EXPECT_FALSE(tool_result_is_error(result("{\"error\": false}")));
  EXPECT_FALSE(tool_result_is_error(result("{\"error\": \"\"}")));
  EXPECT_FALSE(tool_result_is_error(result("{\"error\": null}")));
  EXPECT_FALSE(tool_result_is_error(result("[{\"error\": \"x\"}]")));
  EXPECT_FALSE(tool_result_is_error(result("Error: this is plain text")));
  EXPECT_FALSE(tool_result_is_error(result("{not json")));
  EXPECT_TRUE(tool_result_is_error(result("An error occurred while running the tool. Please try again. Error: x")));
}

}  // namespace
}  // namespace llmtap::trace
