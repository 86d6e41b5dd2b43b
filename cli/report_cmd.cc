// `llmtap report`: what the recorded traces of a time window add up to (report/report.h).
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/option_cursor.h"
#include "common/clock.h"
#include "common/data_dir.h"
#include "export/make_exporters.h"
#include "export/span_json.h"
#include "report/report.h"
#include "report/time_window.h"

namespace {

using namespace llmtap::report;

constexpr const char* kHelp =
    "Usage: llmtap report [--since WHEN] [--until WHEN] [--by KEY] [--top N] [--json | --csv]\n"
    "                     [--workflow NAME] [--agent NAME] [--loop-repeats N] [--loop-model-calls N]\n"
    "                     [--data-dir DIR]\n"
    "\n"
    "Sums up the traces in the local store (<data dir>/traces.db) that started in a time window:\n"
    "model calls, errors, latency percentiles, tokens and cost grouped by KEY; tools with their\n"
    "failure rate, latency and the cost of the model calls that requested them; handoff paths;\n"
    "cost per trace and the most expensive traces; calls per run and runs that look like loops.\n"
    "\n"
    "  --since WHEN          window start (default 24h): a duration back from now (30m, 24h, 7d,\n"
    "                        1h30m) or a date-time (2026-11-30, 2026-11-30T08:00, ...Z for UTC)\n"
    "  --until WHEN          window end (default now), same forms\n"
    "  --by KEY              agent (default), tool, model, workflow, user, session, release\n"
    "  --top N               most expensive traces (and loop runs) listed (default 5)\n"
    "  --json                everything as one JSON object\n"
    "  --csv                 the --by table as CSV (tools for --by tool)\n"
    "  --workflow NAME       only traces of this workflow\n"
    "  --agent NAME          only traces in which this agent ran\n"
    "  --loop-repeats N      a run calling one tool N times with the same arguments looks like a\n"
    "                        loop (default 3)\n"
    "  --loop-model-calls N  so does a run with more than N model calls (default 25)\n"
    "  --data-dir DIR        data directory (default: $LLMTAP_DATA_DIR, else $XDG_DATA_HOME/llmtap,\n"
    "                        else ~/.local/share/llmtap)\n";

int usage_error(const std::string& msg) {
  std::fprintf(stderr, "llmtap report: %s\n\n%s", msg.c_str(), kHelp);
  return 2;
}

bool positive_int(const std::string& v, int* out) {
  char* end = nullptr;
  long n = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end || n <= 0 || n > 1'000'000) return false;
  *out = static_cast<int>(n);
  return true;
}

int run_report(const std::vector<std::string>& args) {
  std::string since = "24h", until, by = "agent", data_dir;
  bool json = false, csv = false;
  ReportOptions opts;
  TraceSelection selection;
  llmtap::cli::OptionCursor opt(args);
  while (opt.next()) {
    const std::string& a = opt.name();
    std::string value;
    if (a == "--help" || a == "-h") {
      std::fputs(kHelp, stdout);
      return 0;
    } else if (a == "--json" || a == "--csv") {
      (a == "--json" ? json : csv) = true;
    } else if (a == "--since" || a == "--until" || a == "--by" || a == "--data-dir" || a == "--workflow" ||
               a == "--agent" || a == "--top" || a == "--loop-repeats" || a == "--loop-model-calls") {
      if (!opt.value(&value)) return usage_error(a + " needs a value");
      if (a == "--since") since = value;
      else if (a == "--until") until = value;
      else if (a == "--by") by = value;
      else if (a == "--data-dir") data_dir = value;
      else if (a == "--workflow") selection.workflow = value;
      else if (a == "--agent") selection.agent = value;
      else if (!positive_int(value, a == "--top" ? &opts.top : a == "--loop-repeats" ? &opts.loop_repeats
                                                                                        : &opts.loop_model_calls))
        return usage_error(a + " needs a positive whole number, not '" + value + "'");
    } else {
      return usage_error((a.rfind("-", 0) == 0 ? "unknown option '" : "unexpected argument '") + opt.raw() + "'");
    }
  }
  if (json && csv) return usage_error("--json and --csv exclude each other");
  auto group = parse_group_by(by);
  if (!group) return usage_error("--by wants one of " + std::string(kGroupByNames) + ", not '" + by + "'");
  opts.by = *group;
  const llmtap::UnixNanos now = llmtap::now_ns();
  std::string error;
  auto from = parse_time_point(since, now, &error);
  if (!from) return usage_error("--since: " + error);
  opts.since = *from;
  opts.until = now;
  if (!until.empty()) {
    auto to = parse_time_point(until, now, &error);
    if (!to) return usage_error("--until: " + error);
    opts.until = *to;
  }
  if (opts.until <= opts.since) return usage_error("the window is empty: --until must be later than --since");

  if (data_dir.empty()) data_dir = llmtap::default_data_dir();
  const std::string path = llmtap::exporting::store_path_in(data_dir);
  auto source = StoreTraceSource::open(path, &error);
  if (!source) {
    std::fprintf(stderr, "llmtap report: %s\n", error.c_str());
    return 1;
  }
  auto report = build_report(*source, opts, &error, selection);
  if (!report) {
    std::fprintf(stderr, "llmtap report: %s\n", error.c_str());
    return 1;
  }
  if (json) std::printf("%s\n", llmtap::exporting::dump_json(report_json(*report), 2).c_str());
  else if (csv) std::fputs(report_csv(*report).c_str(), stdout);
  else std::fputs(format_report_text(*report).c_str(), stdout);
  return 0;
}

llmtap::cli::CommandRegistration reg({"report", "sum up a time window: cost, errors, latency, tools, handoffs", &run_report});

}  // namespace
