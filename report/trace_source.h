#pragma once
// The query layer's one way into recorded traces: `llmtap report`, `llmtap traces export` (and a
// later viewer or alerting) select traces through this interface, never through SQL of their own.
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "common/span.h"

namespace llmtap::exporting {
class TraceStoreReader;
}

namespace llmtap::report {

struct TraceSelection {
  UnixNanos since = 0;                                      // trace start >= since
  UnixNanos until = std::numeric_limits<UnixNanos>::max();  // trace start < until
  std::vector<std::string> trace_ids;                       // only these full ids (empty: any)
  std::string workflow;                                     // only this workflow ("" any)
  std::string agent;                                        // only traces where this agent ran ("" any)
  // false: the spans carry only what the report and the viewer's lists read (export/
  // report_projection.h: no prompts, outputs or tool results, tool arguments as fingerprints), read
  // from one row per trace. true: the whole trace with its content and events.
  bool messages = false;
  bool newest_first = false;  // most recent first (a list that stops after N traces)
};

class TraceSource {
 public:
  virtual ~TraceSource() = default;
  // Calls VISIT with each selected trace, oldest first unless newest_first (listed ids: in the
  // order given); stops when VISIT returns false. Returns "" or an error message.
  virtual std::string for_each(const TraceSelection& selection,
                               const std::function<bool(const Trace& trace)>& visit) const = 0;
};

// The local SQLite store (export/sqlite_store.h) as a TraceSource.
class StoreTraceSource final : public TraceSource {
 public:
  // nullptr and *error when there is no readable store at PATH.
  static std::unique_ptr<StoreTraceSource> open(const std::string& path, std::string* error);
  ~StoreTraceSource() override;
  std::string for_each(const TraceSelection& selection,
                       const std::function<bool(const Trace& trace)>& visit) const override;
  const exporting::TraceStoreReader& reader() const { return *reader_; }

 private:
  explicit StoreTraceSource(std::unique_ptr<exporting::TraceStoreReader> reader);
  std::unique_ptr<exporting::TraceStoreReader> reader_;
};

// No traces: a data directory before anything was recorded in it.
class EmptyTraceSource final : public TraceSource {
 public:
  std::string for_each(const TraceSelection&, const std::function<bool(const Trace& trace)>&) const override {
    return "";
  }
};

// True when some agent span of TRACE is named AGENT.
bool trace_has_agent(const Trace& trace, const std::string& agent);

}  // namespace llmtap::report
