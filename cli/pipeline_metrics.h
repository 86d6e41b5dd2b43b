#pragma once
// The Prometheus text for `--metrics-listen`: trace metrics plus the running pipeline's own gauges
// and counters (open traces, capture drops, export queue, spool and drops, proxy requests, alerts).
#include <string>
#include <vector>

#include "alerts/alerting.h"
#include "collector/async_tap.h"
#include "export/otlp_exporter.h"
#include "export/sqlite_store.h"
#include "metrics/trace_metrics.h"
#include "proxy/proxy_server.h"
#include "trace/trace_builder.h"

namespace llmtap::cli {

// What the endpoint reads; any pointer may be null (that part is left out).
struct PipelineMetricSources {
  const metrics::TraceMetrics* traces = nullptr;
  const TraceBuilder* builder = nullptr;
  const AsyncTap* tap = nullptr;
  std::vector<const exporting::SqliteStore*> stores;
  std::vector<const exporting::OtlpExporter*> otlp;
  const proxy::ProxyServer* proxy = nullptr;
  const alerts::Alerting* alerting = nullptr;
  const MemoryBudget* memory = nullptr;
};

std::string render_pipeline_metrics(const PipelineMetricSources& sources);

}  // namespace llmtap::cli
