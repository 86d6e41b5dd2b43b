#pragma once
// The embedded default store: traces, spans and attributes in <data_dir>/traces.db (WAL), written
// in batches on the store's own thread so on_trace() never waits on disk. TraceStoreReader is the
// query side used by `llmtap traces`.
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <limits>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/sinks.h"
#include "common/span.h"

struct sqlite3;

namespace llmtap::exporting {

inline constexpr int kStoreSchemaVersion = 1;
inline constexpr const char* kStoreFileName = "traces.db";

class SqliteStore : public TraceSink {
 public:
  // Opens (creating and migrating) the database at PATH. nullptr and *error on failure. At most
  // MAX_QUEUED traces wait for the disk; on_trace() waits beyond that.
  static std::unique_ptr<SqliteStore> open(const std::string& path, std::string* error,
                                           std::size_t max_queued = 50000);
  ~SqliteStore() override;  // writes everything queued, then closes

  // Queues TRACE; waits while the write queue is full (never drops). Not for the forwarding path.
  void on_trace(const Trace& trace) override;
  void flush() override;  // returns once everything accepted so far is committed (bounded)
  const std::string& path() const { return path_; }

 private:
  SqliteStore(std::string path, sqlite3* db, std::size_t max_queued);
  void run();
  bool write_batch(std::vector<Trace>& batch);

  std::string path_;
  sqlite3* db_;
  const std::size_t max_queued_;
  std::mutex mu_;
  std::condition_variable cv_;       // work queued / stop
  std::condition_variable done_cv_;  // a batch committed
  std::condition_variable room_cv_;  // the queue shrank
  std::deque<Trace> queue_;
  std::uint64_t accepted_ = 0, written_ = 0;
  bool behind_warned_ = false;
  bool stop_ = false;
  std::thread thread_;
};

struct TraceSummary {
  std::string trace_id;
  UnixNanos start_ns = 0;
  UnixNanos end_ns = 0;
  std::string workflow;
  std::vector<std::string> agents;
  std::int64_t span_count = 0;
  std::optional<double> cost_usd;  // absent when no span was priced
  std::int64_t error_count = 0;
};

// Which traces TraceStoreReader::scan() visits and which attributes it loads.
struct TraceScan {
  UnixNanos since = 0;                                      // trace start >= since
  UnixNanos until = std::numeric_limits<UnixNanos>::max();  // trace start < until
  std::string workflow;                                     // only this workflow ("" any)
  std::vector<std::string> trace_ids;                       // only these full ids (empty: any)
  std::vector<std::string> skip_keys;                       // attributes not loaded (large content)
};

class TraceStoreReader {
 public:
  // Opens an existing store read-only. nullptr and *error (e.g. "no trace store at PATH") if absent.
  static std::unique_ptr<TraceStoreReader> open(const std::string& path, std::string* error);
  ~TraceStoreReader();

  // Most recent first (by start time).
  std::vector<TraceSummary> recent(int limit) const;
  // Trace ids starting with PREFIX (at most LIMIT of them).
  std::vector<std::string> ids_with_prefix(const std::string& prefix, int limit = 2) const;
  // All spans of one trace, root first then start order; nullopt if unknown.
  std::optional<Trace> get(const std::string& trace_id) const;
  // Calls VISIT with each trace SCAN selects (spans as get() returns them), oldest first (listed ids
  // in the order given); stops early when VISIT returns false. Returns "" or an error message.
  std::string scan(const TraceScan& scan, const std::function<bool(Trace&& trace)>& visit) const;

 private:
  explicit TraceStoreReader(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

}  // namespace llmtap::exporting
