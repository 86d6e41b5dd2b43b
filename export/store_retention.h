#pragma once
// Retention for the trace store: traces older than a maximum age, and the oldest traces while the
// store is over its size cap, are deleted in small transactions on the store's own thread (never on
// the forwarding path, never holding the write lock for long), and the freed pages returned to the
// file system where the store allows it (auto_vacuum=incremental, every store created by schema 2).
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/clock.h"

struct sqlite3;

namespace llmtap::exporting {

struct RetentionPolicy {
  std::int64_t max_age_ns = 0;     // 0: keep traces of any age   (--retention)
  std::int64_t max_bytes = 0;      // 0: no size cap              (--max-store-mb)
  bool enabled() const { return max_age_ns > 0 || max_bytes > 0; }
  // "7d, 1024 MB" for log lines.
  std::string describe() const;
};

// The defaults of `llmtap proxy` / `llmtap run` (SPEC.md): 30 days, 1024 MB.
RetentionPolicy default_retention();
// --retention AGE: "7d", "12h", "90m", "2w", "3600s"; "off" or "0" keeps traces of any age.
// "" or the error naming the value.
std::string parse_retention_age(const std::string& value, std::int64_t* max_age_ns);
// --max-store-mb N: a whole number of MiB; 0 removes the cap.
std::string parse_max_store_mb(const std::string& value, std::int64_t* max_bytes);
// A whole number of megabytes for OPTION, as bytes; ZERO_MEANS says what 0 does (in the error text).
std::string parse_megabytes(std::string_view option, const std::string& value, std::uint64_t* bytes,
                            std::string_view zero_means = "no cap");

// What one prune() removed.
struct PruneResult {
  std::uint64_t traces_by_age = 0, traces_by_size = 0, spans = 0;
  std::uint64_t alerts = 0;   // rows of the alerts table, when the store has one
  std::int64_t bytes_before = 0, bytes_after = 0;  // store_bytes() around it
  bool more = false;          // stopped at MAX_TRACES with more to delete
  std::string error;          // "" or why a step failed (what was committed before stays deleted)
  std::uint64_t traces() const { return traces_by_age + traces_by_size; }
  // "deleted 120 traces (1,310 spans): 100 older than 7d, 20 over the 1024 MB cap; store 1023.1 MB"
  std::string describe(const RetentionPolicy& policy) const;
};

// Bytes in use by the database (pages minus free pages).
std::int64_t store_bytes(sqlite3* db);

// Deletes at most MAX_TRACES traces that POLICY says must go at NOW (oldest first), each chunk of
// CHUNK traces in its own transaction. A store over max_bytes is brought to 90% of it so that it is
// not pruned again for every new trace. Alert rows go with the traces: those older than the age
// limit, and those older than the oldest trace left after pruning by size. STOP_REQUESTED (or
// empty), asked before each chunk, ends the call early with more set (a process stopping); what is
// committed stays deleted, and the next call takes up the rest.
PruneResult prune(sqlite3* db, const RetentionPolicy& policy, UnixNanos now, std::uint64_t max_traces = 20000,
                  std::uint64_t chunk = 2000, const std::function<bool()>& stop_requested = {});

}  // namespace llmtap::exporting
