#pragma once
// Wires the stages together for `llmtap proxy` and `llmtap run`:
//   ProxyServer (+ preload collector socket) -> AsyncTap -> ConnectionStitcher/H2 -> TraceBuilder
//   (+ Pricer) -> exporters (SQLite store by default, OTLP when configured, JSONL, console).
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "cli/run_report.h"
#include "export/store_retention.h"

namespace llmtap::cli {

struct PipelineOptions {
  std::string listen = "127.0.0.1:8080";           // --listen
  std::map<std::string, std::string> upstreams;     // --upstream NAME=URL
  std::vector<std::string> upstream_cas;            // --upstream-ca FILE
  std::vector<std::string> intercept_hosts;         // --intercept-host HOST
  std::vector<std::string> exports;                 // --export SPEC (otlp | jsonl=PATH | sqlite[=PATH] | console)
  std::vector<std::string> pricing_files;           // --pricing FILE
  std::int64_t trace_idle_ms = 30000;               // --trace-idle-ms
  std::int64_t max_open_traces = 50000;             // --max-open-traces (TraceOptions::kDefaultMaxOpenTraces)
  std::int64_t memory_budget_mb = 128;              // --memory-budget-mb (MemoryBudget::kDefaultBytes)
  std::int64_t io_threads = 2;                      // --io-threads
  std::int64_t background_nice = 10;                // --background-nice (kDefaultBackgroundNice)
  std::string data_dir;                             // --data-dir (default: default_data_dir())
  std::string agent_names_file;                     // --agent-names FILE (regex -> name mapping)
  std::vector<std::string> redact_patterns;         // --redact PATTERN (RE2)
  std::set<std::string> no_redact_classes;          // --no-redact-class CLASS[,CLASS...]
  bool collector_socket = true;                     // listen for the preload shim
  bool require_auth = true;                         // false: --no-auth
  bool allow_remote = false;                        // --allow-remote
  bool allow_private_upstream = false;              // --allow-private-upstream
  std::string process_name;                         // workflow name fallback
  std::size_t report_tree_bytes = 0;                // trees kept in memory for an end-of-run report (`llmtap run`)
  std::string user_header;                          // --user-header NAME: end-user id
  std::string session_header;                       // --session-header NAME: session id
  bool raw_user_ids = false;                        // --raw-user-ids: do not hash user ids
  std::string alert_rules_file;                     // --alert-rules FILE (YAML, alerts/rules.h)
  bool enforce_budgets = false;                     // --enforce-budgets: answer 429 once a budget is spent
  std::string metrics_listen;                       // --metrics-listen ADDR:PORT ("" = no endpoint)
  exporting::RetentionPolicy store_retention = exporting::default_retention();  // --retention, --max-store-mb
  std::uint64_t store_max_spool_bytes = std::uint64_t{1} << 30;                 // --max-spool-mb (0: no cap)
  std::uint64_t capture_spool_max_bytes = std::uint64_t{4096} << 20;            // --max-capture-spool-mb (0: none)
};

// Parses the shared proxy options out of ARGS (removing them); returns "" or an error message.
std::string parse_pipeline_options(std::vector<std::string>& args, PipelineOptions& opts);
// The defaults the help text states, where a command's differ from `llmtap proxy`'s.
struct PipelineHelpDefaults {
  const char* listen = "127.0.0.1:8080";
  const char* log_level = "info";
};
// Help text for the shared proxy options, each listed once with its real default.
std::string pipeline_options_help(const PipelineHelpDefaults& defaults = {});
// Whether NAME ("--export") is a shared option that takes a value (inline after '=' or the next word).
bool pipeline_option_takes_value(std::string_view name);
// Sets spdlog's level from a --log-level or $LLMTAP_LOG_LEVEL value (SOURCE names which in the
// error). "" on success, else the error naming the valid levels; the level is then unchanged.
std::string set_log_level(const std::string& value, const char* source);

class Pipeline {
 public:
  // Starts the proxy, collector and export threads. Returns nullptr and sets *error on failure.
  static std::unique_ptr<Pipeline> start(const PipelineOptions& opts, std::string* error);
  virtual ~Pipeline() = default;
  virtual std::string proxy_address() const = 0;     // "127.0.0.1:PORT"
  virtual std::string collector_socket() const = 0;  // Unix socket path for the preload shim, "" if off
  virtual std::string ca_cert_path() const = 0;
  virtual std::string ca_bundle_path() const = 0;    // system roots + CA
  virtual std::string store_path() const = 0;        // SQLite store, "" if not enabled
  virtual std::string data_dir() const = 0;          // in use: the configured one, or a temporary one if it was unusable
  virtual std::string credential() const = 0;        // what proxy clients present, "" with --no-auth
  virtual std::string credential_path() const = 0;   // the file holding it
  virtual std::string metrics_address() const = 0;   // bound --metrics-listen address, "" if none
  // Stop accepting, finish in-flight exchanges (bounded), close every open trace, export everything,
  // all within kShutdownBudget (SPEC: exit within 10 s of SIGTERM).
  virtual void shutdown() = 0;
  // Every trace closed so far, as built in memory (for `llmtap run` to print their trees).
  virtual const RunTraces& traces() const = 0;
  // After shutdown(): where the traces went, one line each; PROBLEM marks a line that reports a loss
  // or a fallback (logged as a warning).
  struct Note {
    bool problem = false;
    std::string text;
  };
  virtual std::vector<Note> destinations() const = 0;
};

// The stop's budget (SPEC.md: exit within 10 s of SIGTERM), phase by phase, each a deadline counted
// from the signal, so that no backlog can push a later phase past the 10 s:
//   until kCaptureDrainMs    the capture backlog goes through the decoder; what is left undecoded
//                            stays in the capture spool for the next start (a replay stops too).
//                            Short: every call decoded now is one more trace to build and store
//                            before the export deadline (or, at the open-trace cap, an early close),
//                            and nothing undecoded is lost;
//   until kExportDeadlineMs  the open traces close and the sinks deliver: the store writes in, an
//                            OTLP exporter retries;
//   until kShutdownBudgetMs  past its deadline the store spools what it still holds, in bulk (one
//                            sequential write), for the next start; retention never runs in a stop;
//   the rest of the 10 s     margin for closing SQLite and exiting on a loaded machine.
inline constexpr int kCaptureDrainMs = 1500;
inline constexpr int kExportDeadlineMs = 6500;
inline constexpr int kShutdownBudgetMs = 8000;

}  // namespace llmtap::cli
