// The running llmtap: proxy and preload collector feed one AsyncTap; its worker parses exchanges
// into ModelCalls for the TraceBuilder; finished traces go to the exporters. A ticker closes idle
// traces. Everything on the forwarding path stops at the Tap, which never blocks.
#include "cli/pipeline.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <unistd.h>

#include "collector/async_tap.h"
#include "collector/collector_socket.h"
#include "common/data_dir.h"
#include "export/make_exporters.h"
#include "pricing/price_table.h"
#include "proxy/proxy_server.h"
#include "trace/trace_builder.h"
#include "common/thread_name.h"

namespace llmtap::cli {

namespace {

// Remembers which traces finished, then passes them on.
class TraceIdRecorder : public TraceSink {
 public:
  explicit TraceIdRecorder(std::unique_ptr<TraceSink> next) : next_(std::move(next)) {}
  void on_trace(const Trace& trace) override {
    {
      std::lock_guard lock(mu_);
      ids_.push_back(trace.trace_id);
    }
    next_->on_trace(trace);
  }
  void flush() override { next_->flush(); }
  std::vector<std::string> ids() const {
    std::lock_guard lock(mu_);
    return ids_;
  }

 private:
  std::unique_ptr<TraceSink> next_;
  mutable std::mutex mu_;
  std::vector<std::string> ids_;
};

class RunningPipeline final : public Pipeline {
 public:
  bool init(const PipelineOptions& opts, std::string* error) {
    data_dir_ = opts.data_dir.empty() ? default_data_dir() : opts.data_dir;
    if (auto e = ensure_private_dir(data_dir_); !e.empty()) return fail(error, "data directory: " + e);

    std::string price_error;
    auto prices = PriceTable::load(opts.pricing_files, &price_error);
    if (!prices) return fail(error, price_error);
    prices_ = std::move(*prices);

    std::vector<std::string> warnings;
    TraceOptions topts = TraceOptions::from_env(&warnings);
    for (const auto& w : warnings) spdlog::warn("{}", w);
    topts.idle_timeout_ns = opts.trace_idle_ms * 1'000'000;
    if (topts.process_name.empty()) topts.process_name = opts.process_name;
    if (!opts.agent_names_file.empty())
      if (std::string e; !load_agent_name_rules_file(opts.agent_names_file, topts.agent_name_rules, e))
        return fail(error, e);

    exporting::ExportOptions eopts;
    eopts.process_name = topts.effective_workflow_name();
    eopts.pid = static_cast<long>(::getpid());
    eopts.capture_content = topts.capture_content;
    eopts.redaction.patterns = opts.redact_patterns;
    eopts.redaction.disabled_classes = opts.no_redact_classes;
    std::string export_error;
    auto exporters = exporting::make_export_setup(opts.exports, data_dir_, &export_error, eopts);
    if (!exporters.sink) return fail(error, export_error);
    for (const auto& d : exporters.descriptions) spdlog::info("exporting to {}", d);
    store_path_ = exporters.store_path;
    recorder_ = std::make_unique<TraceIdRecorder>(std::move(exporters.sink));
    builder_ = std::make_unique<TraceBuilder>(topts, &prices_, *recorder_);
    tap_ = std::make_unique<AsyncTap>(*builder_);

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
    proxy_ = std::make_unique<proxy::ProxyServer>(popts, tap_.get());
    std::string e;
    address_ = proxy_->start(&e);
    if (address_.empty()) return fail(error, e);

    ticker_ = std::thread([this] {
      name_this_thread("llmtap-ticker");
      tick_loop();
    });
    return true;
  }

  ~RunningPipeline() override { shutdown(); }

  std::string proxy_address() const override { return address_; }
  std::string collector_socket() const override { return collector_ ? collector_->path() : ""; }
  std::string ca_cert_path() const override { return proxy_ && proxy_->ca() ? proxy_->ca()->ca_cert_path() : ""; }
  std::string ca_bundle_path() const override { return proxy_ && proxy_->ca() ? proxy_->ca()->bundle_path() : ""; }
  std::string store_path() const override { return store_path_; }
  std::string credential() const override { return proxy_ ? proxy_->credential() : ""; }
  std::string credential_path() const override { return proxy_ ? proxy_->credential_path() : ""; }
  std::vector<std::string> finished_trace_ids() const override {
    return recorder_ ? recorder_->ids() : std::vector<std::string>{};
  }

  void shutdown() override {
    if (shut_down_.exchange(true)) return;
    {
      std::lock_guard lock(tick_mu_);
      stop_ticker_ = true;
    }
    tick_cv_.notify_all();
    if (ticker_.joinable()) ticker_.join();
    // Order matters: stop the producers, drain the tap into the builder, close every trace, flush.
    if (proxy_) proxy_->stop();
    if (collector_) collector_->stop();
    if (tap_) tap_->stop();
    if (builder_) {
      // After a burst this can take a while (the store writes a few thousand traces a second).
      if (const std::size_t open = builder_->open_traces(); open > 1000)
        spdlog::info("stopping: closing and exporting {} open traces", open);
      builder_->close_all(now_ns());  // also flushes the sinks
    }
  }

 private:
  static bool fail(std::string* error, std::string message) {
    if (error) *error = std::move(message);
    return false;
  }

  void tick_loop() {
    std::unique_lock lock(tick_mu_);
    while (!stop_ticker_) {
      tick_cv_.wait_for(lock, std::chrono::milliseconds(200));
      if (stop_ticker_) break;
      lock.unlock();
      builder_->tick(now_ns());
      lock.lock();
    }
  }

  std::string data_dir_, address_, store_path_;
  PriceTable prices_;
  std::unique_ptr<TraceIdRecorder> recorder_;
  std::unique_ptr<TraceBuilder> builder_;
  std::unique_ptr<AsyncTap> tap_;
  std::unique_ptr<CollectorSocket> collector_;
  std::unique_ptr<proxy::ProxyServer> proxy_;
  std::thread ticker_;
  std::mutex tick_mu_;
  std::condition_variable tick_cv_;
  bool stop_ticker_ = false;
  std::atomic<bool> shut_down_{false};
};

}  // namespace

std::unique_ptr<Pipeline> Pipeline::start(const PipelineOptions& opts, std::string* error) {
  auto p = std::make_unique<RunningPipeline>();
  if (!p->init(opts, error)) return nullptr;
  return p;
}

}  // namespace llmtap::cli
