#include "pricing/model_name.h"

#include <gtest/gtest.h>

namespace llmtap {
namespace {

std::vector<std::string> names(std::string_view m) {
  std::vector<std::string> out;
  for (const auto& f : model_name_forms(m)) out.push_back(f.name);
  return out;
}

TEST(ModelName, LowerCasesAndTrims) { EXPECT_EQ(names("  GPT-4o "), (std::vector<std::string>{"gpt-4o"})); }

TEST(ModelName, ProviderAndPathPrefixes) {
  EXPECT_EQ(names("openai/gpt-4o"), (std::vector<std::string>{"openai/gpt-4o", "gpt-4o"}));
  EXPECT_EQ(names("models/gemini-2.5-pro"), (std::vector<std::string>{"models/gemini-2.5-pro", "gemini-2.5-pro"}));
  EXPECT_EQ(names("projects/p/locations/us-central1/publishers/google/models/gemini-2.5-pro").back(), "gemini-2.5-pro");
}

TEST(ModelName, BedrockForms) {
  EXPECT_EQ(names("anthropic.claude-sonnet-4-20250514-v1:0").back(), "claude-sonnet-4-20250514");
  EXPECT_EQ(names("us.anthropic.claude-opus-4-6-v1").back(), "claude-opus-4-6");
  EXPECT_EQ(names("global.anthropic.claude-3-5-sonnet-20241022-v2:0").back(), "claude-3-5-sonnet-20241022");
  EXPECT_EQ(names("arn:aws:bedrock:us-east-1:123456789012:inference-profile/eu.anthropic.claude-haiku-4-5-20251001-v1:0")
                .back(),
            "claude-haiku-4-5-20251001");
  // A "-v2" in a non-Bedrock name is left alone.
  EXPECT_EQ(names("claude-3-5-sonnet-v2@20241022"), (std::vector<std::string>{"claude-3-5-sonnet-v2@20241022"}));
}

TEST(ModelName, GeminiMethodSuffixAndDottedClaudeVersions) {
  EXPECT_EQ(names("models/gemini-2.5-pro:streamGenerateContent").back(), "gemini-2.5-pro");
  EXPECT_EQ(names("anthropic/claude-sonnet-4.5").back(), "claude-sonnet-4-5");
  // Only Claude names: a dotted OpenAI name keeps its dots.
  EXPECT_EQ(names("gpt-4.1"), (std::vector<std::string>{"gpt-4.1"}));
}

TEST(ModelName, DateSuffixes) {
  EXPECT_EQ(strip_date_suffix("gpt-4o-2024-08-06"), "gpt-4o");
  EXPECT_EQ(strip_date_suffix("claude-sonnet-4-20250514"), "claude-sonnet-4");
  EXPECT_EQ(strip_date_suffix("claude-sonnet-4@20250514"), "claude-sonnet-4");
  EXPECT_EQ(strip_date_suffix("gpt-4-0613"), "gpt-4");
  EXPECT_EQ(strip_date_suffix("gpt-3.5-turbo-0125"), "gpt-3.5-turbo");
}

TEST(ModelName, NotDateSuffixes) {
  for (const char* n : {"gpt-4o", "gpt-4o-mini-search-preview", "claude-fable-5-1", "gpt-5.6", "o3", "gpt-4-1350",
                        "model-12345678", "x-2024-13-01", "gemini-2.5-pro-preview-06-05", "gpt-4o-mini"}) {
    EXPECT_FALSE(strip_date_suffix(n)) << n;
  }
}

}  // namespace
}  // namespace llmtap
