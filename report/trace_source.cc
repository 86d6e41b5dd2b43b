#include "report/trace_source.h"

#include "export/sqlite_store.h"
#include "report/span_attrs.h"

namespace llmtap::report {

StoreTraceSource::StoreTraceSource(std::unique_ptr<exporting::TraceStoreReader> reader) : reader_(std::move(reader)) {}
StoreTraceSource::~StoreTraceSource() = default;

std::unique_ptr<StoreTraceSource> StoreTraceSource::open(const std::string& path, std::string* error) {
  auto reader = exporting::TraceStoreReader::open(path, error);
  if (!reader) return nullptr;
  return std::unique_ptr<StoreTraceSource>(new StoreTraceSource(std::move(reader)));
}

bool trace_has_agent(const Trace& trace, const std::string& agent) {
  for (const auto& s : trace.spans)
    if (s.kind == SpanKind::kAgent && str_attr(s, "gen_ai.agent.name") == agent) return true;
  return false;
}

std::string StoreTraceSource::for_each(const TraceSelection& selection,
                                       const std::function<bool(const Trace& trace)>& visit) const {
  exporting::TraceScan scan;
  scan.since = selection.since;
  scan.until = selection.until;
  scan.workflow = selection.workflow;
  scan.trace_ids = selection.trace_ids;
  scan.newest_first = selection.newest_first;
  scan.report_projection = !selection.messages;
  return reader_->scan(scan, [&](Trace&& trace) {
    if (!selection.agent.empty() && !trace_has_agent(trace, selection.agent)) return true;
    return visit(trace);
  });
}

}  // namespace llmtap::report
