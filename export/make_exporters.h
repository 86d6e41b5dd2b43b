#pragma once
// Builds the export side of the pipeline from --export values:
//   otlp | otlp=URL | jsonl=PATH (- for stdout) | sqlite[=PATH] | console
// With no value the SQLite store in the data directory is used; OTLP is added whenever
// OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set. Every exporter sits
// behind one RedactingSink, so none of them ever sees a credential.
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/memory_budget.h"
#include "common/sinks.h"
#include "export/content_redactor.h"
#include "export/otlp_config.h"
#include "export/store_retention.h"

namespace llmtap::exporting {

class SqliteStore;
class OtlpExporter;

struct ExportOptions {
  std::string process_name;             // the traced program, for OTLP resource attributes
  long pid = 0;
  FILE* console_out = stderr;           // where `console` prints trees
  std::optional<bool> capture_content;  // default: OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT
  EnvLookup env;                        // default: the process environment
  TraceSink* also_to = nullptr;         // fed every trace after redaction too (not owned; outlives the sink)
  RedactionOptions redaction;           // --redact, --no-redact-class
  RetentionPolicy store_retention;      // --retention, --max-store-mb (default here: keep everything)
  std::uint64_t store_max_spool_bytes = std::uint64_t{1} << 30;  // --max-spool-mb (0: no cap)
  std::shared_ptr<MemoryBudget> memory_budget;  // --memory-budget-mb: the store's queue is charged to it
};

struct ExportSetup {
  std::unique_ptr<TraceSink> sink;        // RedactingSink -> FanoutSink -> exporters
  std::string store_path;                 // SQLite store in use, "" if none
  std::vector<std::string> descriptions;  // one human line per exporter, e.g. "sqlite /x/traces.db"
  // The stores in the chain (owned by sink), for their StoreOutcome at the end (and the stop's
  // close, timed with its other phases).
  std::vector<SqliteStore*> stores;
  // The OTLP exporters in the chain (owned by sink), for their queue, spool and drop counts.
  std::vector<const OtlpExporter*> otlp;
};

// nullopt-equivalent (sink == nullptr) and *error on a bad spec or an exporter that cannot start.
// Storage that cannot be written does not stop the pipeline (capture must not fail the app): a store
// that cannot be opened sends its traces to a fallback file (SqliteStore::unavailable), an OTLP spool
// directory that cannot be created keeps its retry queue in memory; both are logged with the reason.
ExportSetup make_export_setup(const std::vector<std::string>& specs, const std::string& data_dir,
                              std::string* error, const ExportOptions& options = {});

// Convenience: just the sink (store path via *store_path if given).
std::unique_ptr<TraceSink> make_exporters(const std::vector<std::string>& specs, const std::string& data_dir,
                                          std::string* error, const ExportOptions& options = {},
                                          std::string* store_path = nullptr);

// <data_dir>/traces.db
std::string store_path_in(const std::string& data_dir);
// true for "true"/"1"/"yes" (case-insensitive).
bool env_flag(const EnvLookup& env, std::string_view name);

}  // namespace llmtap::exporting
