// `llmtap alerts`: the alerts recorded in the store (alerts/alert_store.h), and a check of a rules file.
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#include "alerts/alert_store.h"
#include "alerts/rules.h"
#include "cli/command.h"
#include "cli/option_cursor.h"
#include "common/clock.h"
#include "common/data_dir.h"
#include "export/make_exporters.h"
#include "export/span_json.h"
#include "report/text_table.h"
#include "report/time_window.h"

namespace {

constexpr const char* kHelp =
    "Usage: llmtap alerts list [--since WHEN] [--firing] [--limit N] [--json] [--data-dir DIR]\n"
    "       llmtap alerts check FILE\n"
    "\n"
    "Alerts come from the rules file given to `llmtap proxy` or `llmtap run` with --alert-rules FILE\n"
    "(YAML; SPEC.md, \"Alert rules\"). Each alert fires once and records when it recovered.\n"
    "\n"
    "  list                  alerts recorded in the store (<data dir>/traces.db), newest first:\n"
    "    --since WHEN        fired since WHEN (default 7d; 30m, 24h, 2026-11-30, ...); alerts\n"
    "                        still firing are listed whenever they fired\n"
    "    --firing            only alerts that have not recovered\n"
    "    --limit N           at most N alerts (default 100)\n"
    "    --json              as {\"alerts\": [...]}, the shape the viewer's API uses\n"
    "    --data-dir DIR      data directory (default: $LLMTAP_DATA_DIR, else $XDG_DATA_HOME/llmtap,\n"
    "                        else ~/.local/share/llmtap)\n"
    "  check FILE            parse a rules file and list its rules, or say which line and field is wrong\n";

int usage_error(const std::string& msg) {
  std::fprintf(stderr, "llmtap alerts: %s\n\n%s", msg.c_str(), kHelp);
  return 2;
}

std::string local_time(llmtap::UnixNanos ns) {
  std::time_t t = static_cast<std::time_t>(ns / 1'000'000'000);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

int run_list(const std::vector<std::string>& args) {
  std::string since = "7d", data_dir, limit_text;
  bool json = false;
  llmtap::alerts::AlertQuery query;
  llmtap::cli::OptionCursor opt(args);
  while (opt.next()) {
    const std::string& a = opt.name();
    std::string value;
    if (a == "--help" || a == "-h") {
      std::fputs(kHelp, stdout);
      return 0;
    } else if (a == "--json") {
      json = true;
    } else if (a == "--firing") {
      query.firing_only = true;
    } else if (a == "--since" || a == "--limit" || a == "--data-dir") {
      if (!opt.value(&value)) return usage_error(a + " needs a value");
      if (a == "--since") since = value;
      else if (a == "--data-dir") data_dir = value;
      else {
        char* end = nullptr;
        long n = std::strtol(value.c_str(), &end, 10);
        if (value.empty() || *end || n <= 0 || n > 1'000'000) return usage_error("--limit needs a positive whole number, not '" + value + "'");
        query.limit = static_cast<int>(n);
      }
    } else {
      return usage_error((a.rfind("-", 0) == 0 ? "unknown option '" : "unexpected argument '") + opt.raw() + "'");
    }
  }
  std::string error;
  auto from = llmtap::report::parse_time_point(since, llmtap::now_ns(), &error);
  if (!from) return usage_error("--since: " + error);
  query.since = *from;
  if (data_dir.empty()) data_dir = llmtap::default_data_dir();
  const std::string path = llmtap::exporting::store_path_in(data_dir);
  auto rows = llmtap::alerts::list_alerts(path, query, &error);
  if (!rows) {
    std::fprintf(stderr, "llmtap alerts: %s\n", error.c_str());
    return 1;
  }
  if (json) {
    std::printf("%s\n", llmtap::exporting::dump_json(llmtap::alerts::alerts_json(*rows), 2).c_str());
    return 0;
  }
  if (rows->empty()) {
    std::printf("no alerts%s since %s in %s\n", query.firing_only ? " firing" : "", since.c_str(), path.c_str());
    return 0;
  }
  llmtap::report::TextTable table({"FIRED", "RULE", "SUBJECT", "STATE", "TRACE", "MESSAGE"},
                                  {false, false, false, false, false, false});
  for (const auto& r : *rows) {
    std::string state = r.recovered_ns ? "recovered " + local_time(*r.recovered_ns).substr(11) : "firing";
    std::string message = r.message.rfind("alert " + r.rule, 0) == 0 ? r.message.substr(r.message.find(": ") + 2) : r.message;
    table.add({local_time(r.fired_ns), r.rule, r.subject.empty() ? "-" : r.subject, state,
               r.trace_id.empty() ? "-" : r.trace_id.substr(0, 12), message});
  }
  std::fputs(table.render("", 90).c_str(), stdout);
  return 0;
}

int run_check(const std::vector<std::string>& args) {
  if (args.size() == 2 && (args[1] == "--help" || args[1] == "-h")) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  if (args.size() != 2) return usage_error("check takes one FILE");
  std::string error;
  auto rules = llmtap::alerts::load_rules_file(args[1], &error);
  if (!rules) {
    std::fprintf(stderr, "llmtap alerts: %s\n", error.c_str());
    return 1;
  }
  std::printf("%s: %zu rule(s)%s\n", args[1].c_str(), rules->rules.size(),
              rules->webhook.url.empty() ? "" : ", webhook set");
  for (const auto& r : rules->rules) std::printf("  line %d: %s (%s)\n", r.line, r.name.c_str(), llmtap::alerts::to_string(r.kind));
  return 0;
}

int run_alerts(const std::vector<std::string>& args) {
  if (args.empty()) return usage_error("say list or check");
  if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::fputs(kHelp, stdout);
    return 0;
  }
  if (args[0] == "list") return run_list(std::vector<std::string>(args.begin() + 1, args.end()));
  if (args[0] == "check") return run_check(args);
  return usage_error("unknown alerts command '" + args[0] + "' (list, check)");
}

llmtap::cli::CommandRegistration reg({"alerts", "alerts fired by --alert-rules (list), and rules file checks", &run_alerts});

}  // namespace
