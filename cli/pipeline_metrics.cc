#include "cli/pipeline_metrics.h"

namespace llmtap::cli {
namespace {

using metrics::Exposition;
using Labels = std::vector<std::pair<std::string, std::string>>;

void one(Exposition& out, const char* name, const char* type, const char* help, double value, const Labels& labels = {}) {
  out.family(name, type, help);
  out.sample(name, labels, value);
}

const char* kClasses[] = {"other", "1xx", "2xx", "3xx", "4xx", "5xx"};

}  // namespace

std::string render_pipeline_metrics(const PipelineMetricSources& src) {
  Exposition out;
  if (src.traces) src.traces->write(out);
  if (src.builder) {
    one(out, "llmtap_open_traces", "gauge", "Traces open (waiting for more activity)", static_cast<double>(src.builder->open_traces()));
    one(out, "llmtap_traces_closed_early_total", "counter", "Traces closed before their idle timeout by --max-open-traces or --memory-budget-mb (exported, marked)",
        static_cast<double>(src.builder->closed_early_traces()));
  }
  if (src.memory) {
    one(out, "llmtap_memory_budget_bytes", "gauge", "The shared memory budget (--memory-budget-mb)", static_cast<double>(src.memory->limit()));
    static const std::pair<MemoryBudget::Account, const char*> kAccounts[] = {
        {MemoryBudget::Account::kCaptureQueue, "capture_queue"},
        {MemoryBudget::Account::kOpenTraces, "open_traces"},
        {MemoryBudget::Account::kClosedTraceIndex, "closed_trace_index"},
        {MemoryBudget::Account::kStoreQueue, "store_queue"},
        {MemoryBudget::Account::kExportQueue, "export_queue"}};
    out.family("llmtap_memory_budget_used_bytes", "gauge", "Estimated bytes charged to the shared memory budget, by holder");
    for (const auto& [account, name] : kAccounts)
      out.sample("llmtap_memory_budget_used_bytes", {{"holder", name}}, static_cast<double>(src.memory->held(account)));
  }
  if (src.tap) {
    const AsyncTapStats t = src.tap->stats();
    one(out, "llmtap_capture_bytes_total", "counter", "Captured bytes accepted for decoding", static_cast<double>(t.bytes_accepted));
    one(out, "llmtap_capture_dropped_bytes_total", "counter", "Captured bytes dropped because the decode queue was full (forwarding unaffected)", static_cast<double>(t.bytes_dropped));
    one(out, "llmtap_capture_queue_bytes", "gauge", "Captured bytes waiting to be decoded", static_cast<double>(t.queued_bytes));
    one(out, "llmtap_capture_spool_bytes", "gauge", "Bytes of captured traffic waiting in the capture spool (disk and its writer)", static_cast<double>(t.spool_bytes));
    one(out, "llmtap_capture_spool_records", "gauge", "Captured records of this process waiting in the capture spool", static_cast<double>(t.spool_records));
    one(out, "llmtap_capture_spooled_records_total", "counter", "Captured records deferred to the capture spool because the decode queue was full", static_cast<double>(t.spooled_records));
    one(out, "llmtap_capture_spooled_bytes_total", "counter", "Captured bytes deferred to the capture spool", static_cast<double>(t.spooled_bytes));
    one(out, "llmtap_capture_replayed_records_total", "counter", "Captured records decoded from a capture spool an earlier run left", static_cast<double>(t.replayed_records));
    one(out, "llmtap_capture_spool_damaged_segments_total", "counter", "Capture spool segments that could not be read to their end (the rest skipped)", static_cast<double>(t.spool_segments_damaged + t.spool_segments_unreadable));
  }
  if (!src.stores.empty()) {
    double accepted = 0, stored = 0, unstored = 0, lost = 0, overflowed = 0, spool_full = 0, spool_bytes = 0;
    for (const auto* s : src.stores) {
      const exporting::StoreOutcome o = s->outcome();
      accepted += static_cast<double>(o.accepted), stored += static_cast<double>(o.stored);
      unstored += static_cast<double>(o.unstored), lost += static_cast<double>(o.lost);
      overflowed += static_cast<double>(o.overflowed), spool_full += static_cast<double>(o.spool_full);
      spool_bytes += static_cast<double>(o.spool_bytes);
    }
    one(out, "llmtap_store_traces_total", "counter", "Traces written to the SQLite store", stored);
    one(out, "llmtap_store_queue_traces", "gauge", "Traces waiting to be written to the store", accepted - stored - unstored - lost);
    one(out, "llmtap_store_fallback_traces_total", "counter", "Traces the store could not take, written to the fallback file", unstored);
    one(out, "llmtap_store_lost_traces_total", "counter", "Traces neither stored nor written to the fallback file", lost);
    one(out, "llmtap_store_spooled_traces_total", "counter", "Traces the store's queue could not hold, written to its disk spool", overflowed);
    one(out, "llmtap_store_spool_bytes", "gauge", "Bytes of traces waiting in the store's disk spool", spool_bytes);
    one(out, "llmtap_store_spool_full_total", "counter", "Closing traces that waited for the store because the spool was at --max-spool-mb", spool_full);
  }
  if (!src.otlp.empty()) {
    exporting::OtlpExporter::Stats sum;
    for (const auto* e : src.otlp) {
      const auto s = e->stats();
      sum.spans_accepted += s.spans_accepted, sum.spans_delivered += s.spans_delivered;
      sum.spans_rejected += s.spans_rejected, sum.spans_dropped += s.spans_dropped;
      sum.batches_spooled += s.batches_spooled, sum.failed_attempts += s.failed_attempts;
      sum.spool_files += s.spool_files;
    }
    one(out, "llmtap_otlp_spans_accepted_total", "counter", "Spans handed to the OTLP exporter", static_cast<double>(sum.spans_accepted));
    one(out, "llmtap_otlp_spans_delivered_total", "counter", "Spans the OTLP endpoint acknowledged", static_cast<double>(sum.spans_delivered));
    one(out, "llmtap_otlp_queue_spans", "gauge", "Spans accepted and not yet delivered, rejected or dropped (memory queue and spool)",
        static_cast<double>(sum.spans_accepted - std::min(sum.spans_accepted, sum.spans_delivered + sum.spans_rejected + sum.spans_dropped)));
    one(out, "llmtap_otlp_spans_rejected_total", "counter", "Spans the endpoint refused permanently (4xx)", static_cast<double>(sum.spans_rejected));
    one(out, "llmtap_otlp_spans_dropped_total", "counter", "Spans dropped: memory queue or spool full", static_cast<double>(sum.spans_dropped));
    one(out, "llmtap_otlp_failed_attempts_total", "counter", "Export attempts that failed and will be retried", static_cast<double>(sum.failed_attempts));
    one(out, "llmtap_otlp_batches_spooled_total", "counter", "Batches written to the disk spool", static_cast<double>(sum.batches_spooled));
    one(out, "llmtap_otlp_spool_files", "gauge", "Batches waiting in the disk spool", static_cast<double>(sum.spool_files));
  }
  if (src.proxy) {
    const proxy::ProxyCountersSnapshot p = src.proxy->counters();
    one(out, "llmtap_proxy_connections_total", "counter", "Client connections accepted", static_cast<double>(p.connections));
    one(out, "llmtap_proxy_open_connections", "gauge", "Client connections and tunnels open", static_cast<double>(p.active_sessions));
    one(out, "llmtap_proxy_requests_total", "counter", "Requests forwarded upstream", static_cast<double>(p.requests));
    out.family("llmtap_proxy_responses_total", "counter", "Upstream final responses relayed, by status class");
    for (std::size_t i = 0; i < p.responses.size(); ++i)
      if (p.responses[i] || (i >= 2 && i <= 5)) out.sample("llmtap_proxy_responses_total", {{"class", kClasses[i]}}, static_cast<double>(p.responses[i]));
    out.family("llmtap_proxy_local_responses_total", "counter", "Error responses the proxy wrote itself, by status class");
    for (std::size_t i = 0; i < p.local_errors.size(); ++i)
      if (p.local_errors[i] || i == 4 || i == 5) out.sample("llmtap_proxy_local_responses_total", {{"class", kClasses[i]}}, static_cast<double>(p.local_errors[i]));
    one(out, "llmtap_budget_refusals_total", "counter", "Model calls answered 429 because a budget was spent (--enforce-budgets)", static_cast<double>(p.refused));
  }
  if (src.alerting) {
    const alerts::AlertActionStats a = src.alerting->action_stats();
    out.family("llmtap_alerts_total", "counter", "Alerts fired and recovered");
    out.sample("llmtap_alerts_total", {{"state", "fired"}}, static_cast<double>(a.fired));
    out.sample("llmtap_alerts_total", {{"state", "recovered"}}, static_cast<double>(a.recovered));
    out.family("llmtap_alert_webhook_posts_total", "counter", "Alert webhook POSTs by outcome");
    out.sample("llmtap_alert_webhook_posts_total", {{"outcome", "sent"}}, static_cast<double>(a.webhook_sent));
    out.sample("llmtap_alert_webhook_posts_total", {{"outcome", "failed"}}, static_cast<double>(a.webhook_failed));
    one(out, "llmtap_alerts_dropped_total", "counter", "Alerts not stored or posted because the action queue was full", static_cast<double>(a.dropped));
  }
  return out.text();
}

}  // namespace llmtap::cli
