// `llmtap traces list | show TRACE_ID [--json]`: reads the local SQLite store.
#include <cstdio>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/option_cursor.h"
#include "cli/store_query_args.h"
#include "cli/traces_export.h"
#include "common/terminal_text.h"
#include "export/span_json.h"
#include "export/sqlite_store.h"
#include "export/traces_query.h"
#include "export/tree_renderer.h"

namespace {

using namespace llmtap::exporting;

constexpr const char* kHelp =
    "Usage: llmtap traces list [--limit N] [--json] [--data-dir DIR]\n"
    "       llmtap traces show TRACE_ID [--json] [--data-dir DIR]\n"
    "       llmtap traces export [TRACE_ID...] [--since WHEN] [--until WHEN] [--workflow NAME]\n"
    "                            [--agent NAME] [--limit N] [--output FILE]   (see export --help)\n"
    "\n"
    "Reads the local trace store (<data dir>/traces.db, written by `llmtap proxy` and `llmtap run`).\n"
    "\n"
    "  list            recent traces, newest first: full 32-hex trace id, start time, workflow,\n"
    "                  agents, span count, duration, cost, errors\n"
    "  show TRACE_ID   the trace as a tree (a unique prefix of the id is enough)\n"
    "  export          selected traces as JSONL eval cases (input, tool calls, output, cost)\n"
    "  --limit N       how many traces list shows (default 20)\n"
    "  --json          JSON instead of text\n"
    "  --data-dir DIR  data directory (default: $LLMTAP_DATA_DIR, else $XDG_DATA_HOME/llmtap,\n"
    "                  else ~/.local/share/llmtap)\n";

int usage_error(const std::string& msg) {
  std::fprintf(stderr, "llmtap traces: %s\n\n%s", msg.c_str(), kHelp);
  return 2;
}

int run_traces(const std::vector<std::string>& args) {
  if (!args.empty() && args[0] == "export")
    return llmtap::cli::run_traces_export(std::vector<std::string>(args.begin() + 1, args.end()));
  std::string sub, trace_id, error;
  bool json = false;
  long limit = 20;
  llmtap::cli::StoreQueryArgs query;
  llmtap::cli::OptionCursor opt(args);
  while (opt.next()) {
    const std::string& a = opt.name();
    if (a == "--help" || a == "-h") {
      std::fputs(kHelp, stdout);
      return 0;
    } else if (a == "--json") {
      json = true;
    } else if (a == "--data-dir") {
      if (llmtap::cli::take_store_query_option(opt, &query, &error) != llmtap::cli::OptionTaken::kYes)
        return usage_error(error);
    } else if (a == "--limit") {
      auto n = llmtap::cli::take_count(opt, &error);
      if (!n) return usage_error(error);
      limit = *n;
    } else if (!a.empty() && a[0] == '-') {
      return usage_error("unknown option '" + opt.raw() + "'");
    } else if (sub.empty()) {
      sub = a;
    } else if (sub == "show" && trace_id.empty()) {
      trace_id = a;
    } else {
      return usage_error("unexpected argument '" + a + "'");
    }
  }
  if (sub.empty()) return usage_error("missing subcommand: list or show");
  if (sub != "list" && sub != "show")
    return usage_error("unknown subcommand '" + sub + "' (use list, show or export)");
  if (sub == "show" && trace_id.empty()) return usage_error("show needs a TRACE_ID (see `llmtap traces list`)");
  if (sub == "list" && !trace_id.empty()) return usage_error("list takes no trace id");

  const std::string path = llmtap::cli::store_path(query, &error);
  if (path.empty()) {
    std::fprintf(stderr, "llmtap traces: %s\n", error.c_str());
    return 2;
  }
  if (sub == "list" && llmtap::cli::no_store_yet(path)) {
    llmtap::cli::say_no_store_yet("traces", path);
    if (json) std::printf("[]\n");
    else std::printf("no traces recorded yet in %s\n", path.c_str());
    return 0;
  }
  auto store = TraceStoreReader::open(path, &error);
  if (!store) {
    std::fprintf(stderr, "llmtap traces: %s\n", error.c_str());
    return 1;
  }
  if (sub == "list") {
    auto traces = store->recent(static_cast<int>(limit));
    if (json) {
      std::printf("%s\n", llmtap::terminal_safe_json(dump_json(trace_list_json(traces), 2)).c_str());
    } else if (traces.empty()) {
      std::printf("no traces recorded yet in %s\n", path.c_str());
    } else {
      std::fputs(format_trace_list(traces).c_str(), stdout);
    }
    return 0;
  }
  auto found = find_trace(*store, trace_id);
  if (!found.trace) {
    std::fprintf(stderr, "llmtap traces: %s\n", found.error.c_str());
    return 1;
  }
  TreeRenderer renderer;
  if (json) std::printf("%s\n", llmtap::terminal_safe_json(dump_json(renderer.render_json(*found.trace), 2)).c_str());
  else std::fputs(renderer.render_text(*found.trace).c_str(), stdout);
  return 0;
}

llmtap::cli::CommandRegistration reg({"traces", "list recorded traces or show one as a tree", &run_traces});

}  // namespace
