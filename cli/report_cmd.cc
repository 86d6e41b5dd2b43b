// `llmtap report`: what the recorded traces of a time window add up to (report/report.h).
#include <cstdio>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/option_cursor.h"
#include "cli/store_query_args.h"
#include "common/clock.h"
#include "export/span_json.h"
#include "report/report.h"

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

int run_report(const std::vector<std::string>& args) {
  std::string by = "agent";
  bool json = false, csv = false;
  ReportOptions opts;
  llmtap::cli::StoreQueryArgs query;
  llmtap::cli::OptionCursor opt(args);
  std::string error;
  while (opt.next()) {
    const std::string& a = opt.name();
    if (a == "--help" || a == "-h") {
      std::fputs(kHelp, stdout);
      return 0;
    }
    switch (llmtap::cli::take_store_query_option(opt, &query, &error)) {
      case llmtap::cli::OptionTaken::kYes: continue;
      case llmtap::cli::OptionTaken::kError: return usage_error(error);
      case llmtap::cli::OptionTaken::kNo: break;
    }
    if (a == "--json" || a == "--csv") {
      (a == "--json" ? json : csv) = true;
    } else if (a == "--by") {
      if (!opt.value(&by)) return usage_error("--by needs a value");
    } else if (a == "--top" || a == "--loop-repeats" || a == "--loop-model-calls") {
      auto n = llmtap::cli::take_count(opt, &error);
      if (!n) return usage_error(error);
      (a == "--top" ? opts.top : a == "--loop-repeats" ? opts.loop_repeats : opts.loop_model_calls) = static_cast<int>(*n);
    } else {
      return usage_error((a.rfind("-", 0) == 0 ? "unknown option '" : "unexpected argument '") + opt.raw() + "'");
    }
  }
  if (json && csv) return usage_error("--json and --csv exclude each other");
  auto group = parse_group_by(by);
  if (!group) return usage_error("--by wants one of " + std::string(kGroupByNames) + ", not '" + by + "'");
  opts.by = *group;
  if (!llmtap::cli::resolve_window(&query, llmtap::now_ns(), "24h", &error)) return usage_error(error);
  opts.since = query.selection.since;
  opts.until = query.selection.until;
  const std::string path = llmtap::cli::store_path(query, &error);
  if (path.empty()) return usage_error(error);
  std::unique_ptr<TraceSource> source;
  if (llmtap::cli::no_store_yet(path)) {
    llmtap::cli::say_no_store_yet("report", path);
    source = std::make_unique<EmptyTraceSource>();
  } else if (!(source = StoreTraceSource::open(path, &error))) {
    std::fprintf(stderr, "llmtap report: %s\n", error.c_str());
    return 1;
  }
  TraceSelection& selection = query.selection;
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
