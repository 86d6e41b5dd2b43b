// The running llmtap: proxy and preload collector feed one AsyncTap; its worker parses exchanges
// into ModelCalls for the TraceBuilder; finished traces go through the export hand-off's thread to
// the exporters. A ticker closes idle traces. Everything on the forwarding path stops at the Tap,
// which never blocks.
#include "cli/pipeline.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <unistd.h>

#include "alerts/budget_gate.h"
#include "cli/pipeline_metrics.h"
#include "cli/run_data_dir.h"
#include "cli/shutdown_phases.h"
#include "metrics/metrics_server.h"
#include "collector/async_tap.h"
#include "collector/collector_socket.h"
#include "common/data_dir.h"
#include "common/user_id_hash.h"
#include "export/make_exporters.h"
#include "export/sqlite_store.h"
#include "pricing/price_table.h"
#include "proxy/proxy_server.h"
#include "trace/trace_builder.h"
#include "trace/trace_hand_off.h"
#include "common/thread_priority.h"

namespace llmtap::cli {

namespace {

class RunningPipeline final : public Pipeline {
 public:
  bool init(const PipelineOptions& opts, std::string* error) {
    data_dir_ = opts.data_dir.empty() ? default_data_dir() : opts.data_dir;
    // Another user could change a directory that fails the trust check: refuse, never fall back
    // around it. A trusted directory that cannot be written (read-only, full) fails open.
    DataDirState dir = prepare_data_dir(data_dir_);
    if (dir.verdict == DataDirState::kUntrusted) return fail(error, dir.reason);
    if (const std::string& why = dir.reason; dir.verdict == DataDirState::kUnusable) {
      // Fail open: forwarding and tracing must not depend on a writable data directory.
      std::string e;
      std::string run_dir = make_run_data_dir(data_dir_, &e);
      if (run_dir.empty()) return fail(error, "data directory " + data_dir_ + " is unusable (" + why + ") and " + e);
      data_dir_note_ = "data directory " + data_dir_ + " is unusable (" + why + "); this run's CA copy, socket and "
                       "store are in " + run_dir;
      spdlog::warn("{}", data_dir_note_);
      data_dir_ = run_dir;
    }

    std::string price_error;
    auto prices = PriceTable::load(opts.pricing_files, &price_error);
    if (!prices) return fail(error, price_error);
    prices_ = std::move(*prices);

    std::vector<std::string> warnings;
    TraceOptions topts = TraceOptions::from_env(&warnings);
    for (const auto& w : warnings) spdlog::warn("{}", w);
    topts.idle_timeout_ns = opts.trace_idle_ms * 1'000'000;
    topts.max_open_traces = static_cast<std::size_t>(opts.max_open_traces);
    // Before any thread starts: the background threads take their priority from it.
    set_background_nice(static_cast<int>(opts.background_nice));
    // One byte budget for all the traffic held in memory (common/memory_budget.h says who sheds what).
    memory_budget_ = std::make_shared<MemoryBudget>(static_cast<std::size_t>(opts.memory_budget_mb) << 20);
    topts.memory_budget = memory_budget_;
    if (topts.process_name.empty()) topts.process_name = opts.process_name;
    topts.raw_user_ids = opts.raw_user_ids;
    if (!opts.raw_user_ids) {
      std::string e;
      topts.user_id_salt = load_or_create_user_id_salt(data_dir_, &e);
      if (topts.user_id_salt.empty()) return fail(error, "user id salt: " + e);
    }
    if (!opts.agent_names_file.empty())
      if (std::string e; !load_agent_name_rules_file(opts.agent_names_file, topts.agent_name_rules, e))
        return fail(error, e);

    exporting::ExportOptions eopts;
    eopts.process_name = topts.effective_workflow_name();
    eopts.pid = static_cast<long>(::getpid());
    eopts.capture_content = topts.capture_content;
    traces_ = std::make_unique<RunTraces>(opts.report_tree_bytes);
    eopts.also_to = traces_.get();
    eopts.redaction.patterns = opts.redact_patterns;
    eopts.redaction.disabled_classes = opts.no_redact_classes;
    eopts.store_retention = opts.store_retention;
    eopts.store_max_spool_bytes = opts.store_max_spool_bytes;
    eopts.memory_budget = memory_budget_;
    std::string export_error;
    auto exporters = exporting::make_export_setup(opts.exports, data_dir_, &export_error, eopts);
    if (!exporters.sink) return fail(error, export_error);
    for (const auto& d : exporters.descriptions) spdlog::info("exporting to {}", d);
    store_path_ = exporters.store_path;
    stores_ = exporters.stores;
    otlp_ = exporters.otlp;
    sink_ = std::move(exporters.sink);
    // Closed traces: builder -> hand-off -> alerting -> metrics -> exporters; calls: tap -> alerting -> builder.
    TraceSink* traces_to = sink_.get();
    if (!opts.metrics_listen.empty()) {
      trace_metrics_ = std::make_unique<metrics::TraceMetrics>();
      metrics_sink_ = std::make_unique<metrics::MetricsTraceSink>(*trace_metrics_, *traces_to);
      traces_to = metrics_sink_.get();
    }
    if (!init_alerting(opts, error)) return false;
    if (alerting_) {
      alert_sink_ = std::make_unique<alerts::AlertingTraceSink>(*alerting_, *traces_to);
      traces_to = alert_sink_.get();
    }
    // The decode thread closes traces (early, under the budget) and the ticker closes idle ones; the
    // export thread hands them to the sinks, so neither waits for redaction or the store.
    hand_off_ = std::make_unique<TraceHandOff>(*traces_to, memory_budget_);
    builder_ = std::make_unique<TraceBuilder>(topts, &prices_, *hand_off_);
    ModelCallSink* calls_to = builder_.get();
    if (alerting_) {
      call_sink_ = std::make_unique<alerts::AlertingCallSink>(
          *alerting_, prices_, alerts::UserIdPolicy{topts.raw_user_ids, topts.user_id_salt}, *builder_);
      calls_to = call_sink_.get();
    }
    AsyncTapOptions tap_opts;
    tap_opts.parser.user_header = opts.user_header;
    tap_opts.parser.session_header = opts.session_header;
    // Large contexts: a request repeating its connection's previous one is parsed for its new
    // messages only (parsers/request_prefix.h); exported content needs every message.
    tap_opts.parser.elide_request_prefix = !topts.capture_content;
    // The capture queue's own share: a decoder that falls behind may not take the whole budget and
    // so close every open trace early.
    tap_opts.budget = memory_budget_;
    tap_opts.max_queued_bytes = std::min(tap_opts.max_queued_bytes, memory_budget_->capture_queue_share());
    // Past that share the capture is deferred to disk, not dropped (collector/capture_spool.h).
    if (opts.capture_spool_max_bytes > 0) {
      tap_opts.spool.dir = data_dir_ + "/capture-spool";
      tap_opts.spool.key_path = data_dir_ + "/capture-spool.key";
      tap_opts.spool.max_bytes = opts.capture_spool_max_bytes;
    }
    tap_ = std::make_unique<AsyncTap>(*calls_to, tap_opts);

    if (opts.collector_socket) {
      std::string e;
      collector_ = CollectorSocket::start(CollectorSocket::default_path(data_dir_), *tap_, &e);
      if (!collector_) return fail(error, "preload collector socket: " + e);
    }

    proxy::ProxyOptions popts;
    popts.listen = opts.listen;
    popts.upstreams = opts.upstreams;
    popts.upstream_ca_files = opts.upstream_cas;
    popts.intercept_hosts = opts.intercept_hosts;
    popts.data_dir = data_dir_;
    popts.io_threads = static_cast<int>(opts.io_threads);
    popts.require_auth = opts.require_auth;
    popts.allow_remote = opts.allow_remote;
    popts.allow_private_upstream = opts.allow_private_upstream;
    if (opts.enforce_budgets) {
      alerts::BudgetGateOptions g;
      g.user_header = opts.user_header;
      g.session_header = opts.session_header;
      g.users = {topts.raw_user_ids, topts.user_id_salt};
      popts.gate = std::make_shared<alerts::BudgetGate>(alerting_->budgets(), std::move(g));
    }
    proxy_ = std::make_unique<proxy::ProxyServer>(popts, tap_.get());
    std::string e;
    address_ = proxy_->start(&e);
    if (address_.empty()) return fail(error, e);
    if (!opts.metrics_listen.empty()) {
      PipelineMetricSources src{trace_metrics_.get(), builder_.get(), tap_.get(),
                                {stores_.begin(), stores_.end()}, otlp_, proxy_.get(),
                                alerting_.get(), memory_budget_.get()};
      metrics_server_ = metrics::MetricsServer::start(opts.metrics_listen, opts.allow_remote,
                                                      [src] { return render_pipeline_metrics(src); }, &e);
      if (!metrics_server_) return fail(error, e);
      spdlog::info("metrics at http://{}/metrics", metrics_server_->address());
    }

    ticker_ = std::thread([this] {
      enter_background_thread("llmtap-ticker");
      tick_loop();
    });
    return true;
  }

  ~RunningPipeline() override {
    shutdown();
    teardown_.from = std::chrono::steady_clock::now();
  }

  std::string proxy_address() const override { return address_; }
  std::string collector_socket() const override { return collector_ ? collector_->path() : ""; }
  std::string ca_cert_path() const override { return proxy_ && proxy_->ca() ? proxy_->ca()->ca_cert_path() : ""; }
  std::string ca_bundle_path() const override { return proxy_ && proxy_->ca() ? proxy_->ca()->bundle_path() : ""; }
  std::string store_path() const override { return store_path_; }
  std::string credential() const override { return proxy_ ? proxy_->credential() : ""; }
  std::string credential_path() const override { return proxy_ ? proxy_->credential_path() : ""; }
  std::string data_dir() const override { return data_dir_; }
  std::string metrics_address() const override { return metrics_server_ ? metrics_server_->address() : ""; }
  const RunTraces& traces() const override { return *traces_; }

  std::vector<Note> destinations() const override {
    std::vector<Note> out;
    if (!data_dir_note_.empty()) out.push_back({true, data_dir_note_});
    for (const auto* store : stores_) {
      auto o = store->outcome();
      if (!o.set_aside.empty())
        out.push_back({true, "store " + store->path() + " was damaged; the old file is kept as " + o.set_aside});
      if (o.stored == o.accepted)
        out.push_back({false, "store: " + store->path() + "  (llmtap traces list | llmtap traces show TRACE_ID)"});
      else
        out.push_back({true, "store " + store->path() + ": " + o.describe()});
    }
    return out;
  }

  void shutdown() override {
    if (shut_down_.exchange(true)) return;
    const auto began = std::chrono::steady_clock::now();
    ShutdownPhases phases(began);
    // One deadline for the sinks (pipeline.h gives each phase its own), so an exporter retrying
    // through an outage, or a store far behind, still leaves the time to spool and exit.
    if (sink_) sink_->stop_by(began + std::chrono::milliseconds(kExportDeadlineMs));
    {
      std::lock_guard lock(tick_mu_);
      stop_ticker_ = true;  // also read by a tick under way, which returns after its current part
    }
    tick_cv_.notify_all();
    if (ticker_.joinable()) ticker_.join();
    // Order matters: stop the producers, drain the tap into the builder, close every trace, flush.
    if (proxy_) proxy_->stop();
    if (collector_) collector_->stop();
    phases.done("proxy and collector");
    if (tap_) {
      tap_->stop(began + std::chrono::milliseconds(kCaptureDrainMs));
      const AsyncTapStats ts = tap_->stats();
      log_capture_problems(ts);
      phases.done("capture drain", ts.left_in_spool_bytes > 0
                                       ? std::to_string(ts.left_in_spool_bytes >> 20) + " MB left in the capture spool"
                                       : std::string());
    }
    if (builder_) {
      // The store writes what it can until the export deadline and then spools the rest in bulk.
      const TraceBuilder::CloseAllTimes closing = builder_->close_all(now_ns());  // also flushes the sinks
      std::string detail = "building " + std::to_string(closing.building_ms) + " ms, handing over " +
                           std::to_string(closing.handing_ms) + " ms, overlapping; the sinks' flush " +
                           std::to_string(closing.flush_ms) + " ms";
      for (const auto* store : stores_) {
        const exporting::StoreOutcome o = store->outcome();
        detail += "; store " + std::to_string(o.stored) + " stored, " + std::to_string(o.spooled) + " spooled";
        if (o.spool_at_stop_ms > 0) detail += " in bulk in " + std::to_string(o.spool_at_stop_ms) + " ms";
      }
      phases.done("closing " + std::to_string(closing.closed) + " open traces", detail);
      // Inside the budget and timed: the store's thread ends and SQLite closes (its WAL checkpoint).
      std::string closed;
      for (auto* store : stores_) {
        store->close(began + std::chrono::milliseconds(kShutdownBudgetMs));
        const exporting::StoreOutcome o = store->outcome();
        if (o.close_checkpoint_ms < 0) continue;
        closed += closed.empty() ? "" : "; ";
        closed += "WAL copied in for " + std::to_string(o.close_checkpoint_ms) + " ms";
        if (o.wal_left_bytes > 0)
          closed += ", " + std::to_string(o.wal_left_bytes >> 20) + " MB left in it for the next open (the budget's end)";
      }
      if (!stores_.empty()) phases.done("closing the store", closed);
      const TraceBuilderStats st = builder_->stats();
      if (st.token_counts + st.other_exchanges > 0)
        spdlog::info("not traced: {} token count call(s), {} exchange(s) that were not model calls", st.token_counts,
                     st.other_exchanges);
      if (st.continuations_rejoined + st.continuations_linked + st.continuations_evicted > 0)
        spdlog::info("continuations: {} kept, {} evicted, {} rejoined, {} linked", st.continuations_kept,
                     st.continuations_evicted, st.continuations_rejoined, st.continuations_linked);
    }
    phases.log(kShutdownBudgetMs);
  }

 private:
  // --alert-rules and --enforce-budgets. Alerts get store rows when the SQLite store is in use.
  bool init_alerting(const PipelineOptions& opts, std::string* error) {
    if (opts.alert_rules_file.empty()) {
      if (opts.enforce_budgets) return fail(error, "--enforce-budgets needs --alert-rules FILE with a user_budget or session_budget rule");
      return true;
    }
    std::string e;
    auto rules = alerts::load_rules_file(opts.alert_rules_file, &e);
    if (!rules) return fail(error, e);
    if (opts.enforce_budgets &&
        std::none_of(rules->rules.begin(), rules->rules.end(), [](const alerts::Rule& r) { return alerts::is_budget(r.kind) && r.enforce; }))
      return fail(error, "--enforce-budgets: " + opts.alert_rules_file + " has no user_budget or session_budget rule to enforce");
    alerting_ = alerts::Alerting::create(*rules, store_path_, &e);
    if (!alerting_) return fail(error, e);
    spdlog::info("alerts: {} rule(s) from {}{}", rules->rules.size(), opts.alert_rules_file,
                 opts.enforce_budgets ? "; budgets enforced" : "");
    return true;
  }

  static bool fail(std::string* error, std::string message) {
    if (error) *error = std::move(message);
    return false;
  }

  // What the capture side lost or could not read (forwarding was unaffected either way).
  static void log_capture_problems(const AsyncTapStats& s) {
    if (s.spooled_records > 0 || s.replayed_records > 0)
      spdlog::info("capture spool: {} record(s) ({} MB) deferred to disk, {} replayed from an earlier run, {} MB left "
                   "for the next start, {} damaged segment(s) skipped",
                   s.spooled_records, s.spooled_bytes >> 20, s.replayed_records, s.left_in_spool_bytes >> 20,
                   s.spool_segments_damaged);
    if (s.bytes_dropped == 0 && s.websocket_protocol_errors == 0 && s.websocket_oversized_messages == 0 &&
        s.websocket_parse_errors == 0)
      return;
    spdlog::warn(
        "capture: {} bytes dropped (queue and capture spool full), {} WebSocket directions undecodable, {} WebSocket messages over "
        "the parse cap, {} WebSocket messages not JSON ({} WebSocket API sessions)",
        s.bytes_dropped, s.websocket_protocol_errors, s.websocket_oversized_messages, s.websocket_parse_errors,
        s.websocket_sessions);
  }

  void tick_loop() {
    std::unique_lock lock(tick_mu_);
    while (!stop_ticker_) {
      tick_cv_.wait_for(lock, std::chrono::milliseconds(200));
      if (stop_ticker_) break;
      lock.unlock();
      builder_->tick(now_ns(), &stop_ticker_);
      if (alerting_) alerting_->tick(now_ns());
      lock.lock();
    }
  }

  // Declared first, so destroyed last: what the rest of the pipeline took to come apart after
  // shutdown() (threads joined, memory freed), which also counts against the 10 s.
  struct TeardownTimer {
    std::chrono::steady_clock::time_point from{};
    ~TeardownTimer() {
      if (from == std::chrono::steady_clock::time_point{}) return;
      const auto ms =
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - from).count();
      spdlog::log(ms >= 500 ? spdlog::level::info : spdlog::level::debug, "stopping: the teardown took {} ms", ms);
    }
  } teardown_;
  std::string data_dir_, data_dir_note_, address_, store_path_;
  std::shared_ptr<MemoryBudget> memory_budget_;  // shared by the tap, the builder and the store
  PriceTable prices_;
  std::unique_ptr<RunTraces> traces_ = std::make_unique<RunTraces>(0);  // before sink_, which feeds it
  std::vector<exporting::SqliteStore*> stores_;  // owned by sink_
  std::vector<const exporting::OtlpExporter*> otlp_;   // owned by sink_
  std::unique_ptr<TraceSink> sink_;
  std::unique_ptr<metrics::TraceMetrics> trace_metrics_;
  std::unique_ptr<TraceSink> metrics_sink_;           // feeds sink_
  std::unique_ptr<alerts::Alerting> alerting_;
  std::unique_ptr<TraceSink> alert_sink_;             // feeds metrics_sink_ or sink_
  std::unique_ptr<TraceHandOff> hand_off_;            // feeds alert_sink_, metrics_sink_ or sink_
  std::unique_ptr<TraceBuilder> builder_;
  std::unique_ptr<ModelCallSink> call_sink_;          // feeds builder_
  std::unique_ptr<AsyncTap> tap_;
  std::unique_ptr<CollectorSocket> collector_;
  std::unique_ptr<proxy::ProxyServer> proxy_;
  std::thread ticker_;
  std::mutex tick_mu_;
  std::condition_variable tick_cv_;
  // Set under tick_mu_ (the ticker waits on tick_cv_); atomic because the tick reads it without.
  std::atomic<bool> stop_ticker_{false};
  std::atomic<bool> shut_down_{false};
  std::unique_ptr<metrics::MetricsServer> metrics_server_;  // last: stops first, it reads the rest
};

}  // namespace

std::unique_ptr<Pipeline> Pipeline::start(const PipelineOptions& opts, std::string* error) {
  auto p = std::make_unique<RunningPipeline>();
  if (!p->init(opts, error)) return nullptr;
  return p;
}

}  // namespace llmtap::cli
