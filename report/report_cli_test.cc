// `llmtap report`, `llmtap traces` and `traces export` (cli/report_cmd.cc, traces_cmd.cc, traces_export_cmd.cc) run
// in-process through their self-registration, on a store of known traces.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/traces_export.h"
#include "export/sqlite_store.h"
#include "export/test_spans.h"
#include "report/report_test_traces.h"

namespace llmtap::cli {

// cli/main.cc owns the registry in the real binary; this test links the report command alone.
std::vector<Command>& command_registry() {
  static std::vector<Command> commands;
  return commands;
}

namespace {

struct CliRun {
  int rc;
  std::string out, err;
};

CliRun capture(const std::function<int()>& fn) {
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  int rc = fn();
  std::fflush(stdout);
  std::fflush(stderr);
  CliRun r{rc, ::testing::internal::GetCapturedStdout(), ::testing::internal::GetCapturedStderr()};
  return r;
}

CliRun command(const std::string& name, std::vector<std::string> args) {
  for (const auto& c : command_registry())
    if (std::string(c.name) == name) return capture([&] { return c.run(args); });
  ADD_FAILURE() << name << " is not registered";
  return {-1, "", ""};
}

CliRun report(std::vector<std::string> args) { return command("report", std::move(args)); }

class ReportCli : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("TZ", "UTC", 1);
    ::tzset();
    ASSERT_EQ(report::testing::write_store(dir.path + "/traces.db", {report::testing::trace_a(), report::testing::trace_b()}), "");
  }
  exporting::testing::TempDir dir;
  exporting::testing::TempDir empty;
};

TEST_F(ReportCli, TextJsonCsvOverAnAbsoluteWindow) {
  auto text = report({"--data-dir", dir.path, "--since", "2026-11-29T07:00:00Z", "--until=2026-11-29T12:00:00Z"});
  EXPECT_EQ(text.rc, 0) << text.err;
  EXPECT_NE(text.out.find("2 traces, 17 spans"), std::string::npos) << text.out;
  auto json = report({"--data-dir", dir.path, "--since", "2026-11-29", "--until", "2026-11-30", "--json", "--by", "model"});
  ASSERT_EQ(json.rc, 0) << json.err;
  auto j = nlohmann::json::parse(json.out);
  EXPECT_EQ(j["group_by"], "model");
  EXPECT_EQ(j["totals"]["calls"], 6);
  auto csv = report({"--data-dir", dir.path, "--since", "2026-11-29", "--until", "2026-11-30", "--csv", "--by", "tool"});
  ASSERT_EQ(csv.rc, 0) << csv.err;
  EXPECT_EQ(csv.out.rfind("tool,calls,failures,failure_rate,avg_ms,p95_ms,requesting_cost_usd\r\nlookup_order,4,0,0,32.5,40,0.03\r\n", 0), 0u)
      << csv.out;
}

TEST_F(ReportCli, EmptyWindowAndEmptyStoreSaySoWithStatusZero) {
  auto r = report({"--data-dir", dir.path, "--since", "1h"});  // the known traces are in 2026-11-29
  EXPECT_EQ(r.rc, 0);
  EXPECT_NE(r.out.find("no traces recorded in this window"), std::string::npos) << r.out;
  ASSERT_EQ(report::testing::write_store(empty.path + "/traces.db", {}), "");
  auto e = report({"--data-dir", empty.path});
  EXPECT_EQ(e.rc, 0) << e.err;
  EXPECT_NE(e.out.find("0 traces"), std::string::npos);
}

TEST_F(ReportCli, ClearErrors) {
  auto bad_duration = report({"--data-dir", dir.path, "--since", "24x"});
  EXPECT_EQ(bad_duration.rc, 2);
  EXPECT_NE(bad_duration.err.find("--since: '24x' is neither a duration"), std::string::npos) << bad_duration.err;
  auto bad_by = report({"--data-dir", dir.path, "--by", "colour"});
  EXPECT_EQ(bad_by.rc, 2);
  EXPECT_NE(bad_by.err.find("--by wants one of agent, tool, model, workflow, user, session, release, not 'colour'"),
            std::string::npos);
  auto inverted = report({"--data-dir", dir.path, "--since", "1h", "--until", "2h"});
  EXPECT_EQ(inverted.rc, 2);
  EXPECT_NE(inverted.err.find("--until must be later"), std::string::npos);
  auto both = report({"--json", "--csv"});
  EXPECT_EQ(both.rc, 2);
  auto top = report({"--top", "0"});
  EXPECT_EQ(top.rc, 2);
  // Nothing recorded yet reads as an empty store, and stderr names the path (a mistyped --data-dir shows).
  auto missing = report({"--data-dir", dir.path + "/nowhere"});
  EXPECT_EQ(missing.rc, 0) << missing.err;
  EXPECT_NE(missing.err.find("no trace store at " + dir.path + "/nowhere/traces.db yet"), std::string::npos)
      << missing.err;
  auto missing_json = report({"--data-dir", dir.path + "/nowhere", "--json"});
  EXPECT_EQ(missing_json.rc, 0);
  EXPECT_EQ(nlohmann::json::parse(missing_json.out)["totals"]["calls"], 0) << missing_json.out;
  auto help = report({"--help"});
  EXPECT_EQ(help.rc, 0);
  EXPECT_NE(help.out.find("Usage: llmtap report"), std::string::npos);
}

TEST_F(ReportCli, TracesExportToAPrivateFile) {
  const std::string out = dir.path + "/evals.jsonl";
  auto r = capture([&] { return run_traces_export({"bbbb", "--data-dir", dir.path, "--output", out}); });
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.err.find("1 trace written to"), std::string::npos) << r.err;
  std::ifstream f(out);
  std::string line;
  ASSERT_TRUE(std::getline(f, line));
  EXPECT_EQ(nlohmann::json::parse(line)["trace_id"], "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
  EXPECT_FALSE(std::getline(f, line));
  struct stat st {};
  ASSERT_EQ(::stat(out.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  auto all = capture([&] { return run_traces_export({"--data-dir", dir.path, "--workflow", "support"}); });
  EXPECT_EQ(all.rc, 0);
  EXPECT_EQ(std::count(all.out.begin(), all.out.end(), '\n'), 2);
  auto none = capture([&] { return run_traces_export({"--data-dir", dir.path, "--since", "1h"}); });
  EXPECT_EQ(none.rc, 0);
  EXPECT_NE(none.err.find("0 traces matched"), std::string::npos);
  auto unknown = capture([&] { return run_traces_export({"--data-dir", dir.path, "ffff"}); });
  EXPECT_EQ(unknown.rc, 1);
  EXPECT_NE(unknown.err.find("no trace ffff"), std::string::npos);
  auto bad = capture([&] { return run_traces_export({"--data-dir", dir.path, "--until", "soon"}); });
  EXPECT_EQ(bad.rc, 2);
}

TEST_F(ReportCli, NothingRecordedYetReadsAsAnEmptyStore) {
  // A fresh data directory (no traces.db): every reading command answers as for an empty store.
  const std::string store = empty.path + "/traces.db";
  auto traces = command("traces", {"list", "--data-dir", empty.path});
  EXPECT_EQ(traces.rc, 0) << traces.err;
  EXPECT_NE(traces.out.find("no traces recorded yet"), std::string::npos) << traces.out;
  EXPECT_NE(traces.err.find("no trace store at " + store + " yet"), std::string::npos) << traces.err;
  auto traces_json = command("traces", {"list", "--json", "--data-dir", empty.path});
  EXPECT_EQ(traces_json.rc, 0);
  EXPECT_EQ(nlohmann::json::parse(traces_json.out), nlohmann::json::array());
  auto exported = capture([&] { return run_traces_export({"--data-dir", empty.path}); });
  EXPECT_EQ(exported.rc, 0) << exported.err;
  EXPECT_TRUE(exported.out.empty());
  EXPECT_NE(exported.err.find("0 traces matched"), std::string::npos) << exported.err;
  // A trace asked for by id is not there: that stays an error.
  auto show = command("traces", {"show", "abcd", "--data-dir", empty.path});
  EXPECT_EQ(show.rc, 1);
  EXPECT_NE(show.err.find("no trace store at " + store), std::string::npos) << show.err;
  auto named = capture([&] { return run_traces_export({"abcd", "--data-dir", empty.path}); });
  EXPECT_EQ(named.rc, 1);
  EXPECT_TRUE(std::filesystem::is_empty(empty.path)) << "a reading command created files";
}

}  // namespace
}  // namespace llmtap::cli
