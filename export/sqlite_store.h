#pragma once
// The embedded default store: traces and spans in <data_dir>/traces.db (WAL, schema in
// store_schema.h), written in batches on the store's own thread so on_trace() never waits on disk:
// a bounded queue, overflow to an on-disk spool (store_spool.h), retention (store_retention.h).
// TraceStoreReader is the query side used by `llmtap traces` and report/.
#include <chrono>
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

#include "common/memory_budget.h"
#include "common/sinks.h"
#include "common/span.h"
#include "export/store_retention.h"
#include "export/store_schema.h"

struct sqlite3;

namespace llmtap::exporting {

struct EncodedTrace;
struct QueuedTrace;
struct PreparedBatch;
class UnstoredTraces;
class KeyTable;
class StoreCheckpointer;
class StorePrepThread;
class StoreSpool;
class StoreWriter;

inline constexpr const char* kStoreFileName = "traces.db";

struct StoreOptions {
  // Traces waiting in memory for the disk, by count and by bytes; past either, a trace goes to the
  // spool (StoreSpool) and is written in when the queue is empty again.
  std::size_t max_queued = 50000;
  std::size_t max_queued_bytes = std::size_t{64} << 20;
  // The pipeline's shared budget (common/memory_budget.h), or null: the queue charges its traces to
  // it and, past its soft limit, spools a new trace rather than hold it in memory.
  std::shared_ptr<MemoryBudget> budget;
  RetentionPolicy retention;          // enforced on the store's thread (store_retention.h)
  std::chrono::milliseconds prune_every{60000};
  std::string spool_dir;              // default: PATH + "-spool"
  // The spool's cap on disk (0: none). At the cap a closing trace waits for the store's queue to
  // have room (backpressure on the trace builder, never on forwarding) instead of being dropped.
  std::uint64_t max_spool_bytes = std::uint64_t{1} << 30;
};

// What became of the traces handed to a store: nothing is lost silently.
struct StoreOutcome {
  std::uint64_t accepted = 0;     // traces handed to the store
  std::uint64_t stored = 0;       // committed to the database
  std::uint64_t spooled = 0;      // left in the spool at the shutdown deadline (written in at the next open)
  std::uint64_t unstored = 0;     // written to the fallback file instead
  std::uint64_t lost = 0;         // neither (the fallback failed too)
  std::uint64_t recovered = 0;    // spooled by an earlier run and written in by this one (not in accepted)
  std::uint64_t overflowed = 0;   // traces of this run that went to the spool (queue full or shutdown)
  std::uint64_t spool_full = 0;   // traces that waited for the queue because the spool was at its cap
  std::uint64_t spool_bytes = 0;  // the spool's segments on disk now
  std::int64_t spool_at_stop_ms = 0;  // the store's thread spooling past the stop deadline (it may
                                      // overlap the building of the last open traces)
  std::string store_error;        // why the first batch could not be stored (file and reason)
  std::string fallback_path;      // UnstoredTraces file, "" if never needed
  std::string fallback_error;     // why the fallback failed, if it did
  std::string set_aside;          // a damaged store renamed at open, "" if none
  std::string spool_dir;          // where spooled traces wait
  std::string migrated;           // "schema 1 -> 2" when this open migrated the store, else ""
  std::int64_t close_checkpoint_ms = -1;  // close(by): copying the WAL in before the close (-1: not timed)
  std::int64_t wal_left_bytes = 0;        // close(by): what BY left in the WAL for the next open
  // "stored 28 of 30 traces" plus, when short, why and where the rest went.
  std::string describe() const;
};

class SqliteStore : public TraceSink {
 public:
  // Opens (creating and migrating, store_schema.h) the database at PATH. A damaged database
  // (check_store_file) is renamed aside and a fresh one created. nullptr and *error (naming the file
  // and the OS or SQLite reason) on failure.
  static std::unique_ptr<SqliteStore> open(const std::string& path, std::string* error,
                                           const StoreOptions& options = {});
  static std::unique_ptr<SqliteStore> open(const std::string& path, std::string* error, std::size_t max_queued);
  // A store that could not be opened (REASON): every trace goes to the fallback file, and
  // outcome() says so. Keeps `llmtap run` and the proxy working on a read-only or full disk.
  static std::unique_ptr<SqliteStore> unavailable(const std::string& path, const std::string& reason);
  ~SqliteStore() override;  // writes everything queued (or spools it, past a stop_by deadline), then closes

  // Queues TRACE; past the queue's bounds spools it (waits only if the spool cannot be written).
  // Never drops. Not for the forwarding path.
  void on_trace(const Trace& trace) override;
  void take_trace(Trace&& trace) override;  // queued without a copy
  // Returns once everything accepted so far is stored or spooled, or at the stop_by() deadline
  // (then what is still queued is spooled before it returns), else after at most 10 s.
  void flush() override;
  void stop_by(std::chrono::steady_clock::time_point deadline) override;
  // What the destructor does, at a time of the caller's choosing (the stop times it): writes or
  // spools what is queued, ends the store's thread and closes the database. outcome() still
  // answers; nothing may be handed over after it. BY bounds the close's copy of the WAL into the
  // database (checkpoint_before_close): what is not copied by then waits in the WAL, stored.
  void close(std::chrono::steady_clock::time_point by = std::chrono::steady_clock::time_point::max());
  const std::string& path() const { return path_; }
  StoreOutcome outcome() const;

  // The queue's byte bound (StoreOptions::max_queued_bytes as the store was opened with it).
  std::size_t max_queued_bytes() const { return options_.max_queued_bytes; }

 private:
  SqliteStore(std::string path, sqlite3* db, const StoreOptions& options);
  void run();
  bool past_deadline() const;  // under mu_
  bool stopping() const;       // under mu_: stop_by() was called, or the destructor runs
  void note_spool_at_stop(std::chrono::steady_clock::time_point began);  // adds to spool_at_stop_ms
  void accept(const Trace& trace, Trace* owned);
  void settle_overflow();      // under mu_: this run's traces in the spool count as spooled for good
  // Writes one batch from the queue (lock held on entry and exit). false if the queue was empty.
  bool write_queued(std::unique_lock<std::mutex>& lock);
  // Writes BATCH (its traces count as accepted when OWN), or sends it elsewhere on failure.
  // ROWS: BATCH's rows encoded beforehand (StoreWriter::prepare), or null.
  void write_batch(std::vector<Trace>& batch, bool own, const std::vector<EncodedTrace>* rows = nullptr);
  void write_elsewhere(const std::vector<Trace>& batch, const std::string& why);
  // Frees a batch taken from the queue (on the prep thread when there is one) and then releases its
  // charge to the budget.
  void discard(PreparedBatch&& batch);
  // Writes a spool segment's traces in; OWN: overflow of this process (counted as accepted).
  void ingest(const std::string& segment, bool own, std::unique_lock<std::mutex>& lock);
  void maybe_prune();

  std::string path_;
  sqlite3* db_;
  std::string open_error_;  // unavailable(): why db_ is null
  const StoreOptions options_;
  std::unique_ptr<StoreWriter> writer_;
  std::unique_ptr<StorePrepThread> prep_;  // reads spool segments ahead, frees written batches
  std::unique_ptr<StoreCheckpointer> checkpointer_;
  std::unique_ptr<StoreSpool> spool_;
  std::unique_ptr<UnstoredTraces> fallback_;
  StoreOutcome outcome_;    // under out_mu_
  std::int64_t spool_at_stop_us_ = 0;  // under out_mu_: outcome_.spool_at_stop_ms, unrounded
  std::mutex mu_;
  std::condition_variable cv_;       // work queued / stop
  std::condition_variable done_cv_;  // traces reached their final place
  std::condition_variable room_cv_;  // the queue shrank
  mutable std::mutex out_mu_;  // outcome_, and spool_ being closed
  std::deque<QueuedTrace> queue_;
  std::size_t queued_bytes_ = 0;
  std::uint64_t accepted_ = 0, done_ = 0;  // done: stored, spooled for good, or sent elsewhere
  bool overflowed_ = false;                // the open spool segment holds traces of this run
  std::uint64_t overflow_pending_ = 0;     // traces of this run in the spool, not yet written in
  bool behind_warned_ = false, spool_warned_ = false, spool_full_warned_ = false, recovered_earlier_ = false;
  bool stop_ = false;
  std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
  std::chrono::steady_clock::time_point next_prune_{};
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
  // Spans as report_projection.h has them (one small row per trace; skip_keys and events do not
  // apply): what the report and the viewer's lists and dashboards read.
  bool report_projection = false;
};

class TraceStoreReader {
 public:
  // Opens an existing store read-only, after the cheap header checks of check_store_header() (the
  // full quick_check runs when a writer opens the store). Damage found while reading (SQLite's
  // corruption errors, a blob that does not decode) is reported as "trace store PATH is damaged: ..."
  // by scan() and error(). nullptr and *error (e.g. "no trace store at PATH") if absent or damaged.
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
  // Why the last recent()/ids_with_prefix()/get() came back short, "" if it did not.
  const std::string& error() const { return error_; }
  // The read-only connection, for the aggregates' reads (store_aggregates.h).
  sqlite3* connection() const { return db_; }

 private:
  TraceStoreReader(sqlite3* db, std::string path);
  // The message for a failed read (WHY), "damaged" when SQLite or the decoder says so.
  std::string failed(const std::string& why) const;
  sqlite3* db_;
  std::string path_;
  std::unique_ptr<KeyTable> keys_;
  mutable std::string error_;
};

}  // namespace llmtap::exporting
