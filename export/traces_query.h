#pragma once
// What `llmtap traces list|show` prints, kept out of cli/ so it is unit-tested here.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "export/sqlite_store.h"

namespace llmtap::exporting {

// Full 32-hex id or a unique prefix -> the trace; otherwise a clear error (unknown, ambiguous).
struct TraceLookup {
  std::optional<Trace> trace;
  std::string error;
};
TraceLookup find_trace(const TraceStoreReader& store, const std::string& id_or_prefix);

// 1 to 32 hex digits: what a trace id or a prefix of one looks like.
bool is_trace_id_prefix(const std::string& s);
// Full id or unique prefix (any case) -> the full id; otherwise "" with *error saying why.
std::string resolve_trace_id(const TraceStoreReader& store, const std::string& id_or_prefix, std::string* error);

// Table with a header row: TRACE ID, TIME (local), WORKFLOW, AGENTS, SPANS, DURATION, COST, ERRORS.
// "2026-11-30 08:00:05" in local time, or "2026-11-30T08:00:05Z" with UTC.
std::string format_time(UnixNanos ns, bool utc = false);

std::string format_trace_list(const std::vector<TraceSummary>& traces);
nlohmann::json trace_list_json(const std::vector<TraceSummary>& traces);

}  // namespace llmtap::exporting
