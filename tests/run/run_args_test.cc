// Unit tests of `llmtap run`'s command line (cli/run_args.cc).
#include "cli/run_args.h"

#include <gtest/gtest.h>

namespace llmtap::cli {
namespace {

using V = std::vector<std::string>;

TEST(RunArgs, SeparatorSplitsOwnOptionsFromCommand) {
  RunArgs ra;
  PipelineOptions opts;
  ASSERT_EQ(parse_run_args({"--mode", "proxy", "--quiet", "--upstream", "openai=https://127.0.0.1:1", "--",
                            "node", "app.mjs", "--upstream", "x"},
                           ra, opts),
            "");
  EXPECT_EQ(ra.mode, RunMode::kProxy);
  EXPECT_TRUE(ra.quiet);
  EXPECT_EQ(opts.upstreams["openai"], "https://127.0.0.1:1");
  EXPECT_EQ(ra.command, (V{"node", "app.mjs", "--upstream", "x"}));
}

TEST(RunArgs, WithoutSeparatorCommandStartsAtFirstWord) {
  RunArgs ra;
  PipelineOptions opts;
  ASSERT_EQ(parse_run_args({"--mode=gateway", "--export", "jsonl=/tmp/x", "python3", "app.py", "--export", "y"}, ra,
                           opts),
            "");
  EXPECT_EQ(ra.mode, RunMode::kGateway);
  ASSERT_EQ(opts.exports.size(), 1u);
  EXPECT_EQ(opts.exports[0], "jsonl=/tmp/x");
  EXPECT_EQ(ra.command, (V{"python3", "app.py", "--export", "y"}));
}

TEST(RunArgs, Errors) {
  RunArgs ra;
  PipelineOptions opts;
  EXPECT_NE(parse_run_args({"--mode", "magic", "--", "x"}, ra, opts), "");
  EXPECT_NE(parse_run_args({"--bogus", "--", "x"}, ra, opts), "");
  EXPECT_NE(parse_run_args({"--mode"}, ra, opts), "");
  RunArgs empty;
  EXPECT_EQ(parse_run_args({"--help"}, empty, opts), "");
  EXPECT_TRUE(empty.help);
  EXPECT_TRUE(empty.command.empty());
}

}  // namespace
}  // namespace llmtap::cli
