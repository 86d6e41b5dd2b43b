// `llmtap traces export [TRACE_ID...] [--since W] [--until W] [--workflow N] [--agent N] [--limit N]
// [--output FILE]`: one JSON line per trace, for eval sets.
#include <fcntl.h>

#include <cstdio>
#include <memory>

#include "cli/option_cursor.h"
#include "cli/store_query_args.h"
#include "cli/traces_export.h"
#include "export/sqlite_store.h"
#include "export/traces_query.h"
#include "report/eval_export.h"

namespace llmtap::cli {

const char* const kTracesExportHelp =
    "Usage: llmtap traces export [TRACE_ID...] [--since WHEN] [--until WHEN] [--workflow NAME]\n"
    "                            [--agent NAME] [--limit N] [--output FILE] [--data-dir DIR]\n"
    "\n"
    "Writes the selected traces as JSON Lines, one eval case per trace: the run's input (system\n"
    "instructions and messages of its first model call), tool calls with arguments and results,\n"
    "handoffs, the final output, cost, latency, user and session. Redacted as every export is.\n"
    "Messages, arguments and results are present only for traces recorded with\n"
    "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true (\"content_recorded\" says which).\n"
    "\n"
    "  TRACE_ID        these traces (full ids or unique prefixes); without any, every trace in\n"
    "                  the window\n"
    "  --since WHEN    traces that started at or after WHEN: 30m, 24h, 7d or a date-time\n"
    "                  (2026-11-30, 2026-11-30T08:00, ...Z); default: no lower bound\n"
    "  --until WHEN    ... and before WHEN (default now)\n"
    "  --workflow NAME only this workflow\n"
    "  --agent NAME    only traces in which this agent ran\n"
    "  --limit N       at most N traces\n"
    "  --output FILE   write there instead of stdout (created 0600)\n"
    "  --data-dir DIR  data directory (default: $LLMTAP_DATA_DIR, else $XDG_DATA_HOME/llmtap, else\n"
    "                  ~/.local/share/llmtap)\n";

namespace {

int usage_error(const std::string& msg) {
  std::fprintf(stderr, "llmtap traces export: %s\n\n%s", msg.c_str(), kTracesExportHelp);
  return 2;
}

int fail(const std::string& msg) {
  std::fprintf(stderr, "llmtap traces export: %s\n", msg.c_str());
  return 1;
}

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

}  // namespace

int run_traces_export(const std::vector<std::string>& args) {
  std::string output, error;
  std::vector<std::string> ids;
  long limit = -1;
  StoreQueryArgs query;
  OptionCursor opt(args);
  while (opt.next()) {
    const std::string& a = opt.name();
    if (a == "--help" || a == "-h") {
      std::fputs(kTracesExportHelp, stdout);
      return 0;
    }
    switch (take_store_query_option(opt, &query, &error)) {
      case OptionTaken::kYes: continue;
      case OptionTaken::kError: return usage_error(error);
      case OptionTaken::kNo: break;
    }
    if (a == "--output") {
      if (!opt.value(&output) || output.empty()) return usage_error("--output needs a file");
    } else if (a == "--limit") {
      auto n = take_count(opt, &error);
      if (!n) return usage_error(error);
      limit = *n;
    } else if (!a.empty() && a[0] == '-') {
      return usage_error("unknown option '" + opt.raw() + "'");
    } else {
      ids.push_back(a);
    }
  }
  if (!resolve_window(&query, now_ns(), "", &error)) return usage_error(error);
  report::TraceSelection& selection = query.selection;
  const std::string path = store_path(query, &error);
  if (path.empty()) return usage_error(error);
  // Named traces need a store to be found in; a selection by window alone matches nothing yet.
  std::unique_ptr<report::TraceSource> source;
  if (ids.empty() && no_store_yet(path)) {
    say_no_store_yet("traces export", path);
    source = std::make_unique<report::EmptyTraceSource>();
  } else {
    auto store = report::StoreTraceSource::open(path, &error);
    if (!store) return fail(error);
    for (const auto& raw : ids) {
      std::string id = exporting::resolve_trace_id(store->reader(), raw, &error);
      if (id.empty()) return fail(error);
      selection.trace_ids.push_back(id);
    }
    source = std::move(store);
  }

  std::unique_ptr<std::FILE, FileCloser> file;
  std::FILE* out = stdout;
  if (!output.empty() && output != "-") {
    int fd = ::open(output.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || !(file.reset(::fdopen(fd, "w")), file)) return fail("cannot write " + output);
    out = file.get();
  }
  long n = report::export_eval_cases(*source, selection, out, &error, limit);
  if (n < 0) return fail(error);
  if (std::fflush(out) != 0) return fail("cannot write " + (output.empty() ? std::string("stdout") : output));
  std::fprintf(stderr, "llmtap traces export: %ld trace%s%s\n", n, n == 1 ? "" : "s",
               n == 0 ? " matched (nothing written)" : output.empty() ? "" : (" written to " + output).c_str());
  return 0;
}

}  // namespace llmtap::cli
