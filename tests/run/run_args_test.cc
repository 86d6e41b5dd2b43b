// Unit tests of `llmtap run`'s command line (cli/run_args.cc).
#include "cli/run_args.h"

#include <gtest/gtest.h>

#include "common/thread_priority.h"

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

TEST(RunArgs, EverySharedValueOptionIsSkippedWhenFindingTheCommand) {
  RunArgs ra;
  PipelineOptions opts;
  ASSERT_EQ(parse_run_args({"--io-threads", "3", "--trace-idle-ms", "500", "node", "app.mjs"}, ra, opts), "");
  EXPECT_EQ(opts.io_threads, 3);
  EXPECT_EQ(opts.trace_idle_ms, 500);
  EXPECT_EQ(ra.command, (V{"node", "app.mjs"}));
}

TEST(RunArgs, BackgroundNiceTakesZeroToNineteenOrIdle) {
  RunArgs ra;
  PipelineOptions opts;
  EXPECT_EQ(opts.background_nice, 10);
  ASSERT_EQ(parse_run_args({"--background-nice", "0", "--", "x"}, ra, opts), "");
  EXPECT_EQ(opts.background_nice, 0);
  ASSERT_EQ(parse_run_args({"--background-nice=19", "--", "x"}, ra, opts), "");
  EXPECT_EQ(opts.background_nice, 19);
  ASSERT_EQ(parse_run_args({"--background-nice", "idle", "--", "x"}, ra, opts), "");
  EXPECT_EQ(opts.background_nice, kBackgroundIdle);
  for (const char* bad : {"20", "-1", "ten", "", "IDLE", "idle2"}) {
    PipelineOptions b;
    EXPECT_NE(parse_run_args({"--background-nice", bad, "--", "x"}, ra, b).find("--background-nice wants"),
              std::string::npos)
        << bad;
  }
}

// Each option once, with the default the command really applies.
TEST(RunArgs, HelpListsEachOptionOnceWithItsDefault) {
  const std::string help = pipeline_options_help({.listen = "127.0.0.1:0", .log_level = "warn"});
  for (const char* opt : {"--listen", "--upstream ", "--upstream-ca", "--intercept-host", "--export", "--pricing",
                          "--agent-names", "--trace-idle-ms", "--io-threads", "--background-nice", "--data-dir", "--no-collector",
                          "--log-level"}) {
    const std::string line_start = std::string("  ") + opt;
    auto first = help.find(line_start);
    ASSERT_NE(first, std::string::npos) << opt;
    EXPECT_EQ(help.find(line_start, first + 1), std::string::npos) << opt << " listed twice";
  }
  EXPECT_NE(help.find("(default 127.0.0.1:0;"), std::string::npos);
  EXPECT_EQ(help.find("8080"), std::string::npos);
  EXPECT_NE(help.find("(default warn;"), std::string::npos);
  EXPECT_NE(pipeline_options_help().find("(default 127.0.0.1:8080;"), std::string::npos);
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

TEST(RunArgs, AttributionOptions) {
  RunArgs ra;
  PipelineOptions opts;
  ASSERT_EQ(parse_run_args({"--user-header", "X-End-User", "--session-header=X-Session-Id", "--raw-user-ids", "--",
                            "node", "app.mjs"},
                           ra, opts),
            "");
  EXPECT_EQ(opts.user_header, "X-End-User");
  EXPECT_EQ(opts.session_header, "X-Session-Id");
  EXPECT_TRUE(opts.raw_user_ids);
  // Without "--", the values of these options are not taken for the command.
  RunArgs no_sep;
  PipelineOptions o2;
  ASSERT_EQ(parse_run_args({"--user-header", "X-U", "--io-threads", "3", "python3", "app.py"}, no_sep, o2), "");
  EXPECT_EQ(o2.user_header, "X-U");
  EXPECT_EQ(no_sep.command, (V{"python3", "app.py"}));
  PipelineOptions bad;
  EXPECT_NE(parse_run_args({"--user-header", "Authorization", "--", "x"}, ra, bad).find("credential"),
            std::string::npos);
  EXPECT_NE(parse_run_args({"--session-header", "x-api-key", "--", "x"}, ra, bad), "");
  EXPECT_NE(parse_run_args({"--user-header", "bad header", "--", "x"}, ra, bad).find("header name"),
            std::string::npos);
  EXPECT_NE(parse_run_args({"--user-header"}, ra, bad), "");
}

}  // namespace
}  // namespace llmtap::cli
