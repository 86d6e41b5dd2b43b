#include "trace/trace_options.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <map>

namespace llmtap {
namespace {

TraceOptions from(const std::map<std::string, std::string>& env, std::vector<std::string>* warnings) {
  return TraceOptions::from_env(
      [&](const char* n) -> const char* {
        auto it = env.find(n);
        return it == env.end() ? nullptr : it->second.c_str();
      },
      warnings);
}

TEST(TraceOptions, FromEnv) {
  std::vector<std::string> warnings;
  auto o = from({{"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "TRUE"},
                 {"LLMTAP_WORKFLOW_NAME", "wf"},
                 {"LLMTAP_METADATA", "{\"a\":\"b\",\"n\":[1,2]}"}},
                &warnings);
  EXPECT_TRUE(o.capture_content);
  EXPECT_EQ(o.workflow_name, "wf");
  EXPECT_EQ(o.metadata.at("a"), "b");
  EXPECT_EQ(o.metadata.at("n"), "[1,2]");
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(o.idle_timeout_ns, TraceOptions::kDefaultIdleTimeoutNs);

  auto d = from({{"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "false"}, {"LLMTAP_METADATA", "[1]"}},
                &warnings);
  EXPECT_FALSE(d.capture_content);
  EXPECT_TRUE(d.metadata.empty());
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("LLMTAP_METADATA"), std::string::npos);
  EXPECT_EQ(d.effective_workflow_name(), "llmtap");
  d.process_name = "app";
  EXPECT_EQ(d.effective_workflow_name(), "app");
}

TEST(TraceOptions, AgentRuleFilesWithClearErrors) {
  std::vector<AgentNameRule> rules;
  std::string error;
  EXPECT_TRUE(parse_agent_name_rules(R"([{"pattern": "triage", "name": "Triage"}])", rules, error));
  ASSERT_EQ(rules.size(), 1u);
  EXPECT_EQ(rules[0].name, "Triage");

  EXPECT_FALSE(parse_agent_name_rules("{\"(unclosed\": \"X\"}", rules, error));
  EXPECT_NE(error.find("invalid regular expression '(unclosed'"), std::string::npos) << error;
  EXPECT_EQ(rules.size(), 1u);  // unchanged on error
  EXPECT_FALSE(parse_agent_name_rules("{\"a\": 3}", rules, error));
  EXPECT_NE(error.find("must be a string"), std::string::npos) << error;
  EXPECT_FALSE(parse_agent_name_rules("[{\"pattern\": \"a\"}]", rules, error));
  EXPECT_NE(error.find("entry 0"), std::string::npos) << error;
  EXPECT_FALSE(parse_agent_name_rules("nope", rules, error));
  EXPECT_EQ(error, "not valid JSON");

  EXPECT_FALSE(load_agent_name_rules_file("/nonexistent/llmtap-agents.json", rules, error));
  EXPECT_NE(error.find("/nonexistent/llmtap-agents.json"), std::string::npos);
  const std::string path = ::testing::TempDir() + "/llmtap_agent_rules.json";
  {
    std::ofstream f(path);
    f << "{\"refund\": \"Refunds\", \"bill\": \"Billing\"}";
  }
  ASSERT_TRUE(load_agent_name_rules_file(path, rules, error)) << error;
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_EQ(rules[0].name, "Refunds");  // file order kept
  {
    std::ofstream f(path);
    f << "{\"bill\": ";
  }
  EXPECT_FALSE(load_agent_name_rules_file(path, rules, error));
  EXPECT_NE(error.find(path), std::string::npos);
  EXPECT_NE(error.find("not valid JSON"), std::string::npos);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace llmtap
