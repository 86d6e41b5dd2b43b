#include "trace/run_evidence.h"

#include <gtest/gtest.h>

#include <string>

namespace llmtap::trace {
namespace {

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
