#include "export/make_exporters.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <spdlog/spdlog.h>

#include "common/data_dir.h"
#include "export/jsonl_exporter.h"
#include "export/otlp_exporter.h"
#include "export/redactor.h"
#include "export/sqlite_store.h"
#include "export/tree_renderer.h"

namespace llmtap::exporting {
namespace {

constexpr const char* kSpecHelp = "use otlp, otlp=URL, jsonl=PATH (jsonl=- for stdout), sqlite, sqlite=PATH or console; "
                                  "repeat --export for several";

std::string dir_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

std::string store_path_in(const std::string& data_dir) { return data_dir + "/" + kStoreFileName; }

bool env_flag(const EnvLookup& env, std::string_view name) {
  auto v = env(name);
  if (!v) return false;
  std::string s;
  for (char c : *v)
    if (!std::isspace(static_cast<unsigned char>(c))) s.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return s == "true" || s == "1" || s == "yes";
}

ExportSetup make_export_setup(const std::vector<std::string>& specs, const std::string& data_dir,
                              std::string* error, const ExportOptions& options) {
  ExportSetup setup;
  EnvLookup env = options.env ? options.env : process_env();

  bool want_otlp = OtlpConfig::enabled_by(env), want_console = false;
  std::string otlp_url;
  std::vector<std::string> sqlite_paths, jsonl_paths;
  for (const auto& spec : specs) {
    auto eq = spec.find('=');
    std::string kind = spec.substr(0, eq);
    std::string arg = eq == std::string::npos ? "" : spec.substr(eq + 1);
    bool has_arg = eq != std::string::npos;
    if (kind == "otlp") {
      want_otlp = true;
      if (has_arg) {
        if (arg.empty()) { *error = "--export otlp=URL needs a URL"; return {}; }
        otlp_url = arg;
      }
    } else if (kind == "jsonl") {
      if (arg.empty()) { *error = "--export jsonl needs a path: jsonl=PATH (or jsonl=- for stdout)"; return {}; }
      jsonl_paths.push_back(arg);
    } else if (kind == "sqlite") {
      if (has_arg && arg.empty()) { *error = "--export sqlite=PATH needs a path (or plain sqlite for the default)"; return {}; }
      std::string p = has_arg ? arg : store_path_in(data_dir);
      if (std::find(sqlite_paths.begin(), sqlite_paths.end(), p) == sqlite_paths.end()) sqlite_paths.push_back(p);
    } else if (kind == "console" && !has_arg) {
      want_console = true;
    } else {
      *error = "unknown --export value '" + spec + "': " + kSpecHelp;
      return {};
    }
  }
  if (specs.empty()) sqlite_paths.push_back(store_path_in(data_dir));

  std::vector<std::unique_ptr<TraceSink>> sinks;
  if (options.also_to) sinks.push_back(std::make_unique<ForwardingSink>(*options.also_to));
  for (const auto& p : sqlite_paths) {
    // A directory another user could change is refused; one that is ours but cannot be written
    // (read-only, full) fails open to the store's fallback file.
    DataDirState dir = prepare_data_dir(dir_of(p));
    if (dir.verdict == DataDirState::kUntrusted) {
      *error = p == store_path_in(data_dir) ? dir.reason : "--export sqlite=" + p + ": " + dir.reason;
      return {};
    }
    std::string err = dir.reason;
    std::unique_ptr<SqliteStore> store;
    StoreOptions store_options;
    store_options.retention = options.store_retention;
    store_options.max_spool_bytes = options.store_max_spool_bytes;
    store_options.budget = options.memory_budget;
    // The store queue's own share: a decoder catching up on a backlog would otherwise fill the
    // budget with traces waiting for the disk; past it they wait in the store's spool instead, and
    // are written in from there.
    if (options.memory_budget)
      store_options.max_queued_bytes = std::min(store_options.max_queued_bytes, options.memory_budget->store_queue_share());
    if (dir.usable()) store = SqliteStore::open(p, &err, store_options);
    if (!store) {
      spdlog::error("trace store {} is unavailable ({}); this run's traces go to a fallback file instead", p, err);
      store = SqliteStore::unavailable(p, err);
    }
    if (setup.store_path.empty()) setup.store_path = p;
    setup.descriptions.push_back("sqlite " + p +
                                 (options.store_retention.enabled() ? " (" + options.store_retention.describe() + ")" : ""));
    setup.stores.push_back(store.get());
    sinks.push_back(std::move(store));
  }
  for (const auto& p : jsonl_paths) {
    auto jsonl = JsonlExporter::open(p, error);
    if (!jsonl) return {};
    setup.descriptions.push_back("jsonl " + (p == "-" ? std::string("stdout") : p));
    sinks.push_back(std::move(jsonl));
  }
  if (want_console) {
    sinks.push_back(std::make_unique<ConsoleExporter>(options.console_out));
    setup.descriptions.push_back("console");
  }
  bool capture = options.capture_content ? *options.capture_content
                                         : env_flag(env, "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT");
  if (want_otlp) {
    EnvLookup otlp_env = env;
    if (!otlp_url.empty()) {
      // otlp=URL acts as OTEL_EXPORTER_OTLP_ENDPOINT (and wins over the environment).
      otlp_env = [env, otlp_url](std::string_view name) -> std::optional<std::string> {
        if (name == "OTEL_EXPORTER_OTLP_ENDPOINT") return otlp_url;
        if (name == "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") return std::nullopt;
        return env(name);
      };
    }
    auto cfg = OtlpConfig::from_env(otlp_env, error, options.process_name,
                                    options.pid ? options.pid : static_cast<long>(::getpid()));
    if (!cfg) return {};
    cfg->spool_dir = data_dir + "/spool/otlp";
    cfg->capture_content = capture;
    if (DataDirState dir = prepare_data_dir(cfg->spool_dir); dir.verdict == DataDirState::kUntrusted) {
      *error = "OTLP spool: " + dir.reason;
      return {};
    } else if (!dir.usable()) {
      spdlog::error("OTLP spool: {}; batches awaiting retry are kept in memory only (lost at exit)", dir.reason);
      cfg->spool_dir.clear();
    }
    std::string ignored;
    std::string where = parse_url(cfg->endpoint, &ignored)->loggable();
    auto otlp = OtlpExporter::create(std::move(*cfg), error);
    if (!otlp) return {};
    setup.descriptions.push_back("otlp " + where);
    setup.otlp.push_back(otlp.get());
    sinks.push_back(std::move(otlp));
  }

  auto content = ContentRedactor::create(options.redaction, error);
  if (!content) return {};
  setup.sink = std::make_unique<RedactingSink>(std::make_unique<FanoutSink>(std::move(sinks)), capture, std::move(content));
  return setup;
}

std::unique_ptr<TraceSink> make_exporters(const std::vector<std::string>& specs, const std::string& data_dir,
                                          std::string* error, const ExportOptions& options, std::string* store_path) {
  auto setup = make_export_setup(specs, data_dir, error, options);
  if (store_path) *store_path = setup.store_path;
  return std::move(setup.sink);
}

}  // namespace llmtap::exporting
