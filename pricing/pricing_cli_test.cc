// `llmtap pricing` (cli/pricing_cmd.cc) run in-process through its self-registration.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/command.h"

namespace llmtap::cli {

// cli/main.cc owns the registry in the real binary; this test links pricing_cmd.cc alone.
std::vector<Command>& command_registry() {
  static std::vector<Command> commands;
  return commands;
}

namespace {

struct CliRun {
  int rc;
  std::string out;
  std::string err;
};

CliRun run(std::vector<std::string> args) {
  const Command* cmd = nullptr;
  for (const auto& c : command_registry()) {
    if (std::string(c.name) == "pricing") cmd = &c;
  }
  EXPECT_NE(cmd, nullptr);
  if (!cmd) return {-1, "", ""};
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  int rc = cmd->run(args);
  std::fflush(stdout);
  std::fflush(stderr);
  CliRun r{rc, ::testing::internal::GetCapturedStdout(), ::testing::internal::GetCapturedStderr()};
  return r;
}

TEST(PricingCli, LookupExact) {
  CliRun r = run({"lookup", "gpt-4o"});
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("rule:           exact"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("input 2.5"), std::string::npos) << r.out;
}

TEST(PricingCli, LookupJsonShowsRuleAndPrices) {
  CliRun r = run({"lookup", "--json", "us.anthropic.claude-sonnet-4-5-20250929-v1:0"});
  ASSERT_EQ(r.rc, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["rule"], "alias");
  EXPECT_EQ(j["entry"], "claude-sonnet-4-5");
  EXPECT_EQ(j["prices"]["cache_write_1h"], "6");
  EXPECT_EQ(j["effective_prices"]["reasoning"], "15");
  EXPECT_TRUE(j.contains("derived"));
  EXPECT_EQ(j["context_tiers"][0]["above_prompt_tokens"], 200000);
}

TEST(PricingCli, LookupDateStripped) {
  CliRun r = run({"lookup", "claude-opus-4-6-20270101", "--json"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["rule"], "date_stripped");
}

TEST(PricingCli, UnknownModelExitsOne) {
  CliRun r = run({"lookup", "gpt-4o-mini-search-preview-v9"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("no price for model 'gpt-4o-mini-search-preview-v9'"), std::string::npos) << r.err;
}

TEST(PricingCli, UserTableLayers) {
  char path[] = "/tmp/llmtap_pricing_cliXXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  std::ofstream(path) << R"({"schema_version": 1, "table_version": "mine",
    "models": [{"id": "house-model", "prices": {"input": "0.5", "output": "1.5"}}]})";
  CliRun r = run({"lookup", "house-model", "--pricing", path, "--json"});
  std::remove(path);
  ASSERT_EQ(r.rc, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["prices"]["input"], "0.5");
  EXPECT_NE(j["table_version"].get<std::string>().find("+mine"), std::string::npos);
}

TEST(PricingCli, BadPricingFileIsAClearError) {
  CliRun r = run({"lookup", "gpt-4o", "--pricing", "/nonexistent/p.json"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("/nonexistent/p.json: cannot open"), std::string::npos) << r.err;
}

TEST(PricingCli, HelpAndUsage) {
  CliRun r = run({"--help"});
  EXPECT_EQ(r.rc, 0);
  EXPECT_NE(r.out.find("Usage: llmtap pricing lookup MODEL"), std::string::npos);
  EXPECT_EQ(run({}).rc, 2);
  EXPECT_EQ(run({"lookup"}).rc, 2);
  EXPECT_EQ(run({"frobnicate"}).rc, 2);
  EXPECT_EQ(run({"info", "--json"}).rc, 0);
}

}  // namespace
}  // namespace llmtap::cli
