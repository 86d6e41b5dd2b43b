#include "common/safe_regex.h"

#include <string>

#include <gtest/gtest.h>

namespace llmtap {
namespace {

TEST(SafeRegex, CompilesAndMatchesCaseInsensitively) {
  std::string error;
  auto re = compile_regex("triage.*agent", {.case_insensitive = true}, &error);
  ASSERT_NE(re, nullptr) << error;
  EXPECT_TRUE(re2::RE2::PartialMatch("You are the TRIAGE support Agent.", *re));
  EXPECT_FALSE(re2::RE2::PartialMatch("You are the billing agent.", *re));
}

TEST(SafeRegex, InvalidPatternNamesThePatternAndTheCause) {
  std::string error;
  EXPECT_EQ(compile_regex("(unclosed", {}, &error), nullptr);
  EXPECT_NE(error.find("'(unclosed'"), std::string::npos) << error;
  EXPECT_NE(error.find("missing )"), std::string::npos) << error;
  // Backreferences and lookaround need backtracking: refused, not silently different.
  EXPECT_EQ(compile_regex("(a)\\1", {}, &error), nullptr);
  EXPECT_EQ(compile_regex("a(?=b)", {}, &error), nullptr);
}

TEST(SafeRegex, PatternsBeyondTheMemoryBudgetAreRefused) {
  std::string error;
  EXPECT_EQ(compile_regex("((a{100}){100}){100}", {.max_mem = 1 << 20}, &error), nullptr);
  EXPECT_NE(error.find("invalid regular expression"), std::string::npos) << error;
}

// std::regex recursed once per character here and segfaulted on a 60,000-character prompt.
TEST(SafeRegex, OneMegabyteInputWithPathologicalPatternsFinishes) {
  const std::string big(1 << 20, 'a');
  std::string error;
  for (const char* pattern : {"(a|aa)+$", "(a+)+b", "(a*)*b", "(x+x+)+y", "triage.*agent", "(.*a){20}c"}) {
    auto re = compile_regex(pattern, {.case_insensitive = true}, &error);
    ASSERT_NE(re, nullptr) << error;
    bool want = std::string(pattern) == "(a|aa)+$";
    EXPECT_EQ(re2::RE2::PartialMatch(big, *re), want) << pattern;
  }
  auto full = compile_regex("(a|aa)+", {}, &error);
  ASSERT_NE(full, nullptr);
  EXPECT_TRUE(re2::RE2::FullMatch(big, *full));
  EXPECT_FALSE(re2::RE2::FullMatch(big + "b", *full));
}

}  // namespace
}  // namespace llmtap
