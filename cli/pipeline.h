#pragma once
// Wires the stages together for `llmtap proxy` and `llmtap run`:
//   ProxyServer (+ preload collector socket) -> AsyncTap -> ConnectionStitcher/H2 -> TraceBuilder
//   (+ Pricer) -> exporters (SQLite store by default, OTLP when configured, JSONL, console).
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace llmtap::cli {

struct PipelineOptions {
  std::string listen = "127.0.0.1:8080";           // --listen
  std::map<std::string, std::string> upstreams;     // --upstream NAME=URL
  std::vector<std::string> upstream_cas;            // --upstream-ca FILE
  std::vector<std::string> intercept_hosts;         // --intercept-host HOST
  std::vector<std::string> exports;                 // --export SPEC (otlp | jsonl=PATH | sqlite[=PATH] | console)
  std::vector<std::string> pricing_files;           // --pricing FILE
  std::int64_t trace_idle_ms = 30000;               // --trace-idle-ms
  std::int64_t io_threads = 2;                      // --io-threads
  std::string data_dir;                             // --data-dir (default: default_data_dir())
  std::string agent_names_file;                     // --agent-names FILE (regex -> name mapping)
  std::vector<std::string> redact_patterns;         // --redact PATTERN (RE2)
  std::set<std::string> no_redact_classes;          // --no-redact-class CLASS[,CLASS...]
  bool collector_socket = true;                     // listen for the preload shim
  bool require_auth = true;                         // false: --no-auth
  bool allow_remote = false;                        // --allow-remote
  bool allow_private_upstream = false;              // --allow-private-upstream
  std::string process_name;                         // workflow name fallback
};

// Parses the shared proxy options out of ARGS (removing them); returns "" or an error message.
std::string parse_pipeline_options(std::vector<std::string>& args, PipelineOptions& opts);
// Help text for the shared proxy options.
const char* pipeline_options_help();

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
  virtual std::string credential() const = 0;        // what proxy clients present, "" with --no-auth
  virtual std::string credential_path() const = 0;   // the file holding it
  // Stop accepting, finish in-flight exchanges (bounded), close every open trace, export everything.
  virtual void shutdown() = 0;
  // Trace ids closed so far (for `llmtap run` to print their trees).
  virtual std::vector<std::string> finished_trace_ids() const = 0;
};

}  // namespace llmtap::cli
