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

class UnstoredTraces;

inline constexpr int kStoreSchemaVersion = 1;
inline constexpr const char* kStoreFileName = "traces.db";

// What became of the traces handed to a store: nothing is lost silently.
struct StoreOutcome {
  std::uint64_t accepted = 0;     // traces handed to the store
  std::uint64_t stored = 0;       // committed to the database
  std::uint64_t unstored = 0;     // written to the fallback file instead
  std::uint64_t lost = 0;         // neither (the fallback failed too)
  std::string store_error;        // why the first batch could not be stored (file and reason)
  std::string fallback_path;      // UnstoredTraces file, "" if never needed
  std::string fallback_error;     // why the fallback failed, if it did
  std::string set_aside;          // a damaged store renamed at open, "" if none
  // "stored 28 of 30 traces" plus, when short, why and where the rest went.
  std::string describe() const;
};

class SqliteStore : public TraceSink {
 public:
  // Opens (creating and migrating) the database at PATH. A damaged database (check_store_file) is
  // renamed aside and a fresh one created. nullptr and *error (naming the file and the OS or SQLite
  // reason) on failure. At most MAX_QUEUED traces wait for the disk; on_trace() waits beyond that.
  static std::unique_ptr<SqliteStore> open(const std::string& path, std::string* error,
                                           std::size_t max_queued = 50000);
  // A store that could not be opened (REASON): every trace goes to the fallback file, and
  // outcome() says so. Keeps `llmtap run` and the proxy working on a read-only or full disk.
  static std::unique_ptr<SqliteStore> unavailable(const std::string& path, const std::string& reason);
  ~SqliteStore() override;  // writes everything queued, then closes

  // Queues TRACE; waits while the write queue is full (never drops). Not for the forwarding path.
  void on_trace(const Trace& trace) override;
  void flush() override;  // returns once everything accepted so far is written somewhere (bounded)
  const std::string& path() const { return path_; }
  StoreOutcome outcome() const;

 private:
  SqliteStore(std::string path, sqlite3* db, std::size_t max_queued);
  void run();
  // "" once committed, else why not (captured before the rollback).
  std::string write_batch(std::vector<Trace>& batch);
  void write_elsewhere(const std::vector<Trace>& batch, const std::string& why);

  std::string path_;
  sqlite3* db_;
  std::string open_error_;  // unavailable(): why db_ is null
  std::unique_ptr<UnstoredTraces> fallback_;
  StoreOutcome outcome_;    // under mu_
  const std::size_t max_queued_;
  std::mutex mu_;
  std::condition_variable cv_;       // work queued / stop
  std::condition_variable done_cv_;  // a batch committed
  std::condition_variable room_cv_;  // the queue shrank
  mutable std::mutex out_mu_;  // outcome_
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
  bool newest_first = false;                                // window order reversed (lists stop early)
};

class TraceStoreReader {
 public:
  // Opens an existing store read-only, after check_store_file(). nullptr and *error (e.g. "no trace
  // store at PATH", "trace store PATH is damaged: ...") if absent or damaged.
  static std::unique_ptr<TraceStoreReader> open(const std::string& path, std::string* error);
  ~TraceStoreReader();

  // Most recent first (by start time).
  std::vector<TraceSummary> recent(int limit) const;
  // Trace ids starting with PREFIX (at most LIMIT of them).
  std::vector<std::string> ids_with_prefix(const std::string& prefix, int limit = 2) const;
  // All spans of one trace, root first then start order; nullopt if unknown.
  std::optional<Trace> get(const std::string& trace_id) const;
  // Calls VISIT with each trace SCAN selects (spans as get() returns them), oldest first unless
  // newest_first (listed ids in the order given); stops early when VISIT returns false. Returns ""
  // or an error message.
  std::string scan(const TraceScan& scan, const std::function<bool(Trace&& trace)>& visit) const;

 private:
  explicit TraceStoreReader(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

}  // namespace llmtap::exporting
