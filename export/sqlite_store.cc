#include "export/sqlite_store.h"

#include "export/report_projection.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <chrono>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "common/private_file.h"
#include "common/thread_priority.h"
#include "export/span_codec.h"
#include "export/store_checkpointer.h"
#include "export/sqlite_util.h"
#include "export/store_encoding.h"
#include "export/store_file.h"
#include "export/store_keys.h"
#include "export/store_prep_thread.h"
#include "export/store_rows.h"
#include "export/store_spool.h"
#include "export/store_writer.h"
#include "export/unstored_traces.h"

namespace llmtap::exporting {
namespace {

using sql::Stmt;
using Clock = std::chrono::steady_clock;

// Traces per transaction: large enough that the commit is a small part of the cost, small enough
// that a batch takes a few hundred milliseconds at most (the deadline is checked between batches).
// Trace ids are random, so each trace lands on its own page of the trace-id indexes and a commit
// writes every page it touched to the WAL: the more traces a commit holds, the more of them share
// a page. 4096 against 1024: 31-33k against 25k spans/s in store_bench at 300k traces.
constexpr std::size_t kMaxBatch = 4096;
// Queued traces past which the writer counts as behind and callers encode the rows (on_trace).
constexpr std::size_t kEncodeHereFrom = 64;
// A retention pass deletes at most this many traces before the queue is written again, each chunk
// in its own transaction (store_retention.h); a stop is noticed between chunks.
constexpr std::uint64_t kPruneTraces = 20000, kPruneChunk = 2000;

bool configure(sqlite3* db, int* from, std::string* error) {
  sqlite3_busy_timeout(db, 5000);
  // NORMAL: a commit does not wait for fsync (WAL keeps the store consistent; a power cut may lose
  // the last commits, never the file).
  // A 32 MB page cache keeps the indexes the writer updates (spans_by_trace, traces) in memory
  // instead of re-reading their pages from the OS for every batch; checkpoints every 16 MB of WAL
  // rather than 4 MB mean fewer fsyncs for the same data.
  // auto_vacuum first: it takes effect only on a database without tables, and only when set before
  // WAL mode (later it is ignored: every store made before 0.1.12 kept its freed pages). On a store
  // that exists it changes nothing.
  if (!sql::exec(db,
                 "PRAGMA auto_vacuum=INCREMENTAL; "
                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-32768; "
                 "PRAGMA wal_autocheckpoint=4096; PRAGMA temp_store=MEMORY;",
                 error))
    return false;
  return bring_schema_up_to_date(db, from, error);
}

// SQLite's allocation statistics take a global mutex and a memory barrier on every sqlite3_malloc
// and free (~5 % of the writer's CPU); llmtap never reads them (no sqlite3_memory_used, no heap
// limit). Only possible before SQLite initialises: a process that used SQLite first keeps them.
void turn_off_sqlite_memstatus() {
  static std::once_flag once;
  std::call_once(once, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
}

}  // namespace

std::string StoreOutcome::describe() const {
  std::string out = "stored " + std::to_string(stored) + " of " + std::to_string(accepted) + " trace" +
                    (accepted == 1 ? "" : "s");
  if (stored == accepted) return out;
  if (spooled > 0)
    out += "; " + std::to_string(spooled) + " spooled to " + spool_dir + " (written into the store when it next opens)";
  if (stored + spooled == accepted) return out;
  out += ": " + store_error;
  if (unstored > 0) out += "; " + std::to_string(unstored) + " written to " + fallback_path + " instead";
  if (lost > 0) out += "; " + std::to_string(lost) + " lost (" + fallback_error + ")";
  return out;
}

std::unique_ptr<SqliteStore> SqliteStore::open(const std::string& path, std::string* error, std::size_t max_queued) {
  StoreOptions options;
  options.max_queued = max_queued;
  return open(path, error, options);
}

std::unique_ptr<SqliteStore> SqliteStore::open(const std::string& path, std::string* error,
                                               const StoreOptions& options) {
  turn_off_sqlite_memstatus();
  // First of all, before any check or rename: a symlink or a file of another user at the path is
  // refused (SQLite would turn a link's target into a store; "damage" there is not ours to move).
  // Creating the file 0600 here also gives SQLite's -wal and -shm files that mode.
  auto create_owned = [&] {
    std::string open_error;
    int fd = open_owned_file(path, O_RDWR | O_CREAT, 0600, 0, &open_error);
    if (fd < 0) *error = "trace store: " + open_error;
    else ::close(fd);
    return fd >= 0;
  };
  if (!create_owned()) return nullptr;
  std::string set_aside;
  // The full check (quick_check reads every page) runs here, once per writer open, not on every
  // `llmtap traces` or report.
  if (StoreCheck check = check_store_file(path); check.result == StoreCheck::kDamaged) {
    std::string err;
    set_aside = set_aside_store_file(path, &err);
    if (set_aside.empty()) {
      *error = "trace store " + path + " is damaged (" + check.reason + ") and cannot be set aside: " + err;
      return nullptr;
    }
    spdlog::warn("trace store {} is damaged ({}); moved it to {} and started a fresh store", path, check.reason,
                 set_aside);
    if (!create_owned()) return nullptr;
  }
  sqlite3* db = nullptr;
  // One thread uses the connection at a time (the store's thread; open and close around it).
  int rc = sqlite3_open_v2(path.c_str(), &db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW,
                           nullptr);
  if (rc != SQLITE_OK) {
    *error = "cannot open trace store " + path + ": " + (db ? sqlite_reason(db, rc) : "out of memory");
    sqlite3_close(db);
    return nullptr;
  }
  sqlite3_extended_result_codes(db, 1);
  std::string err;
  int from = 0;
  if (!configure(db, &from, &err)) {
    *error = "cannot set up trace store " + path + ": " + err;
    sqlite3_close(db);
    return nullptr;
  }
  std::string migrated;
  if (from > 0 && from < kStoreSchemaVersion) {
    migrated = "schema " + std::to_string(from) + " -> " + std::to_string(kStoreSchemaVersion);
    spdlog::info("trace store {}: migrated {}", path, migrated);
  }
  std::unique_ptr<SqliteStore> store(new SqliteStore(path, db, options));
  std::lock_guard lock(store->out_mu_);
  store->outcome_.set_aside = set_aside;
  store->outcome_.migrated = migrated;
  return store;
}

std::unique_ptr<SqliteStore> SqliteStore::unavailable(const std::string& path, const std::string& reason) {
  std::unique_ptr<SqliteStore> store(new SqliteStore(path, nullptr, StoreOptions{}));
  std::lock_guard lock(store->mu_);
  store->open_error_ = reason;
  return store;
}

StoreOutcome SqliteStore::outcome() const {
  std::lock_guard lock(out_mu_);
  StoreOutcome o = outcome_;
  if (spool_) o.spool_bytes = spool_->disk_bytes();
  return o;
}

SqliteStore::SqliteStore(std::string path, sqlite3* db, const StoreOptions& options)
    : path_(std::move(path)), db_(db), options_(options) {
  if (db_) {
    writer_ = std::make_unique<StoreWriter>(db_);
    prep_ = std::make_unique<StorePrepThread>(*writer_, kMaxBatch, options_.budget);
    checkpointer_ = std::make_unique<StoreCheckpointer>(path_, db_);
    spool_ = std::make_unique<StoreSpool>(options_.spool_dir.empty() ? path_ + "-spool" : options_.spool_dir,
                                          options_.max_spool_bytes);
    outcome_.spool_dir = spool_->dir();
  }
  thread_ = std::thread([this] {
    enter_background_thread("llmtap-store");
    run();
  });
}

SqliteStore::~SqliteStore() { close(); }

void SqliteStore::close(Clock::time_point by) {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  room_cv_.notify_all();
  if (!thread_.joinable()) return;
  thread_.join();
  prep_.reset();
  checkpointer_.reset();
  {
    // outcome() may be asked meanwhile (the metrics endpoint): it reads the spool under out_mu_.
    std::lock_guard out(out_mu_);
    if (spool_) outcome_.spool_bytes = spool_->disk_bytes();
    spool_.reset();  // closes (and unlocks) this run's segment before the database
  }
  writer_.reset();
  if (db_ && by != Clock::time_point::max()) {
    const CloseCheckpoint c = checkpoint_before_close(db_, path_, by);
    std::lock_guard out(out_mu_);
    outcome_.close_checkpoint_ms = c.ms;
    outcome_.wal_left_bytes = c.wal_bytes;
  }
  if (db_) sqlite3_close(db_);
  db_ = nullptr;
}

void SqliteStore::stop_by(Clock::time_point deadline) {
  {
    std::lock_guard lock(mu_);
    deadline_ = deadline;
  }
  cv_.notify_all();
}

void SqliteStore::settle_overflow() {
  {
    std::lock_guard out(out_mu_);
    outcome_.spooled += overflow_pending_;
  }
  done_ += std::exchange(overflow_pending_, 0);
  done_cv_.notify_all();
}

void SqliteStore::note_spool_at_stop(Clock::time_point began) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - began).count();
  std::lock_guard out(out_mu_);
  spool_at_stop_us_ += us;
  outcome_.spool_at_stop_ms = std::max<std::int64_t>(spool_at_stop_us_ / 1000, 1);
}

bool SqliteStore::stopping() const { return stop_ || deadline_ != Clock::time_point::max(); }

bool SqliteStore::past_deadline() const { return deadline_ != Clock::time_point::max() && Clock::now() >= deadline_; }

void SqliteStore::on_trace(const Trace& trace) { accept(trace, nullptr); }

void SqliteStore::take_trace(Trace&& trace) { accept(trace, &trace); }

// OWNED is TRACE when the caller gave it up: it is moved into the queue rather than copied.
void SqliteStore::accept(const Trace& trace, Trace* owned) {
  if (trace.spans.empty()) return;
  const std::size_t bytes = codec::approx_size(trace);
  {
    std::lock_guard lock(out_mu_);
    ++outcome_.accepted;
  }
  std::unique_lock lock(mu_);
  ++accepted_;
  // The queue always takes one trace, so the writer has work while the rest goes to the spool.
  auto has_room = [&] {
    return queue_.empty() || (queue_.size() < options_.max_queued && queued_bytes_ + bytes <= options_.max_queued_bytes &&
                              (!options_.budget || options_.budget->fits_soft(bytes)));
  };
  const bool full = !has_room();
  if (full && spool_) {
    lock.unlock();
    std::string error;
    bool spool_full = false;
    if (spool_->append(trace, &error, &spool_full)) {
      {
        std::lock_guard out(out_mu_);
        ++outcome_.overflowed;
      }
      lock.lock();
      if (!spool_warned_) {
        spool_warned_ = true;
        spdlog::warn("trace store {}: {} traces ({} MB) waiting to be written; spooling the overflow to {}", path_,
                     queue_.size(), queued_bytes_ >> 20, spool_->dir());
      }
      overflowed_ = true;
      ++overflow_pending_;
      lock.unlock();
      cv_.notify_one();
      return;
    }
    if (spool_full) {
      std::lock_guard out(out_mu_);
      ++outcome_.spool_full;
    }
    lock.lock();
    if (spool_full && !spool_full_warned_) {
      spool_full_warned_ = true;
      spdlog::warn("trace store {}: the spool is at its cap ({}); closing traces waits for the disk (--max-spool-mb)",
                   path_, error);
    } else if (!spool_full && !behind_warned_) {
      spdlog::warn("trace store {}: cannot spool ({}); closing traces waits for the disk", path_, error);
    }
  }
  if (full) {
    // Traces close on the ticker or at shutdown, never on the forwarding path: wait for the disk
    // rather than drop (the open traces wait in memory meanwhile).
    if (!behind_warned_) {
      behind_warned_ = true;
      spdlog::warn("trace store {}: {} traces waiting to be written; closing traces waits for the disk", path_,
                   queue_.size());
    }
    room_cv_.wait(lock, [&] { return has_room() || stop_; });
  }
  // With traces waiting the writer is the bottleneck: the rows are encoded here, outside
  // the lock, on the caller's thread (store_encoding.h). With the writer keeping up they are left to
  // it, as the caller may be the busier thread (a SIGTERM's close of every open trace); past the
  // deadline the trace is going to the spool.
  QueuedTrace item{owned ? std::move(*owned) : Trace(trace), {}, bytes};
  if (writer_ && !past_deadline() && queue_.size() >= kEncodeHereFrom) {
    lock.unlock();
    writer_->prepare(item.trace, item.rows);
    item.bytes += item.rows.bytes();
    lock.lock();
  }
  queued_bytes_ += item.bytes;
  if (options_.budget) options_.budget->charge(MemoryBudget::Account::kStoreQueue, item.bytes);
  queue_.push_back(std::move(item));
  lock.unlock();
  cv_.notify_one();
}

void SqliteStore::flush() {
  std::unique_lock lock(mu_);
  const std::uint64_t target = accepted_;
  auto until = std::min(Clock::now() + std::chrono::seconds(10), deadline_);
  done_cv_.wait_until(lock, until, [&] { return done_ >= target; });
  // At the deadline the store's thread spools what is left; that takes moments, not the budget.
  if (done_ < target && past_deadline()) {
    cv_.notify_all();
    done_cv_.wait_for(lock, std::chrono::milliseconds(1500), [&] { return done_ >= target; });
  }
}

void SqliteStore::run() {
  std::unique_lock lock(mu_);
  next_prune_ = Clock::now();
  for (;;) {
    const auto wake = options_.retention.enabled() ? next_prune_ : Clock::now() + std::chrono::hours(1);
    cv_.wait_until(lock, wake,
                   [&] { return stop_ || !queue_.empty() || overflowed_ || (db_ && !recovered_earlier_); });
    if (write_queued(lock)) continue;
    if (overflowed_ && spool_) {
      overflowed_ = false;
      auto [segment, records] = spool_->rotate();
      (void)records;
      if (past_deadline()) {
        settle_overflow();  // left for the next open
      } else if (!segment.empty()) {
        ingest(segment, /*own=*/true, lock);
      }
      continue;
    }
    if (stop_) return;
    if (!db_) continue;
    if (!recovered_earlier_) {
      // Segments left by earlier runs (a shutdown deadline, a crash), written in once the queue is
      // empty; a run already past its deadline leaves them to the next one.
      recovered_earlier_ = true;
      if (!past_deadline())
        for (const auto& segment : spool_->segments()) ingest(segment, /*own=*/false, lock);
      continue;
    }
    // Retention never runs once the stop has begun: the time until the deadline is the traces'.
    if (options_.retention.enabled() && !stopping() && Clock::now() >= next_prune_) {
      next_prune_ = Clock::now() + options_.prune_every;
      lock.unlock();
      maybe_prune();
      lock.lock();
    }
  }
}

bool SqliteStore::write_queued(std::unique_lock<std::mutex>& lock) {
  if (queue_.empty()) return false;
  if (writer_) {
    // New keys first (a moment's transaction), so the traces queued behind them get encoded off
    // this thread; a failure here leaves the keys to the batch's own transaction.
    lock.unlock();
    if (std::string why = writer_->add_wanted_keys(); !why.empty())
      spdlog::debug("trace store {}: new attribute keys wait for the next batch: {}", path_, why);
    lock.lock();
    if (queue_.empty()) return false;
  }
  std::vector<Trace> batch;
  std::vector<EncodedTrace> rows;
  // The batch stays charged to the budget until it is freed (by the prep thread, after the write):
  // a batch being written and the written ones waiting to be freed held up to ~70 MB no holder
  // counted (docs/benchmarks.md, "RSS of the 60 s run, round 3").
  std::size_t charged = 0;
  const bool spool_all = past_deadline() && spool_;
  // And a quarter of the queue's bytes: what the writer holds sits beside a queue that fills again,
  // so a batch of 4096 large traces would have taken ~30 MB past the queue's share of the budget.
  const std::size_t max_batch_bytes = std::max<std::size_t>(options_.max_queued_bytes / 4, 1);
  while (!queue_.empty() && (spool_all || (batch.size() < kMaxBatch && charged < max_batch_bytes))) {
    QueuedTrace& q = queue_.front();
    queued_bytes_ -= std::min(queued_bytes_, q.bytes);
    charged += q.bytes;
    batch.push_back(std::move(q.trace));
    if (!spool_all) rows.push_back(std::move(q.rows));
    queue_.pop_front();
  }
  room_cv_.notify_all();
  lock.unlock();
  if (spool_all) {
    // Past the shutdown deadline: what is still queued goes to the spool, for the next open.
    // A spool at its cap (or failing) leaves the rest to be written now: late, never dropped.
    // In bulk: encoded and written a megabyte at a time, in one pass.
    const auto began = Clock::now();
    std::string error;
    const std::uint64_t spooled = spool_->append_all(batch, &error);
    note_spool_at_stop(began);
    std::vector<Trace> unspooled(std::make_move_iterator(batch.begin() + static_cast<std::ptrdiff_t>(spooled)),
                                 std::make_move_iterator(batch.end()));
    {
      std::lock_guard out(out_mu_);
      outcome_.spooled += spooled;
      outcome_.overflowed += spooled;
    }
    if (!unspooled.empty()) write_batch(unspooled, true);
    discard(PreparedBatch{std::move(batch), {}, charged});
    lock.lock();
    done_ += spooled;
    done_cv_.notify_all();
    return true;
  }
  write_batch(batch, true, &rows);
  // Freed off this thread: the strings and vectors of a thousand traces are a tenth of the writer.
  discard(PreparedBatch{std::move(batch), std::move(rows), charged});
  lock.lock();
  return true;
}

void SqliteStore::discard(PreparedBatch&& batch) {
  if (prep_) return prep_->discard(std::move(batch));
  const std::size_t charged = batch.charged;
  batch = PreparedBatch();
  if (options_.budget && charged > 0) options_.budget->release(MemoryBudget::Account::kStoreQueue, charged);
}

void SqliteStore::write_batch(std::vector<Trace>& batch, bool own, const std::vector<EncodedTrace>* rows) {
  std::string why = db_ ? writer_->write(batch, rows) : open_error_;
  if (why.empty()) {
    std::lock_guard out(out_mu_);
    (own ? outcome_.stored : outcome_.recovered) += batch.size();
  } else if (own) {
    write_elsewhere(batch, why);
  }
  if (own) {
    std::lock_guard lock(mu_);
    done_ += batch.size();
    done_cv_.notify_all();
  }
}

void SqliteStore::ingest(const std::string& path, bool own, std::unique_lock<std::mutex>& lock) {
  lock.unlock();
  auto claimed = SpoolSegment::claim(path);
  std::uint64_t recovered = 0;
  std::string error;
  bool interrupted = false, keep = false;
  if (claimed) {
    // The prep thread decodes the segment's traces and encodes their rows a batch or two ahead;
    // this thread writes each batch and hands it back to be freed.
    prep_->read(std::move(claimed));
    PreparedBatch batch;
    while (prep_->next(batch)) {
      // Keys the prep thread met first are committed now, so that the batches after use them.
      if (std::string why = writer_->add_wanted_keys(); !why.empty())
        spdlog::debug("trace store {}: new attribute keys wait for the next batch: {}", path_, why);
      const std::size_t n = batch.traces.size();
      std::string why = writer_->write(batch.traces, &batch.rows);
      if (!why.empty() && own) {
        write_elsewhere(batch.traces, why);
      } else if (!why.empty()) {
        spdlog::warn("trace store {}: cannot write in spooled traces of {}: {}; they stay spooled", path_, path, why);
        keep = true;
        prep_->discard(std::move(batch));
        break;
      }
      prep_->discard(std::move(batch));
      batch = PreparedBatch();
      recovered += n;
      {
        std::lock_guard out(out_mu_);
        if (why.empty()) (own ? outcome_.stored : outcome_.recovered) += n;
      }
      if (own) {
        std::lock_guard l(mu_);
        done_ += n;
        overflow_pending_ -= std::min<std::uint64_t>(overflow_pending_, n);
        done_cv_.notify_all();
      }
      // New traces first; past the deadline, the rest of the segment stays spooled.
      lock.lock();
      while (!past_deadline() && write_queued(lock)) {
      }
      interrupted = past_deadline();
      lock.unlock();
      if (interrupted) break;
    }
    std::vector<PreparedBatch> untaken;
    std::unique_ptr<SpoolSegment> segment = prep_->take_back(&untaken);
    if (segment->damaged()) spdlog::warn("trace store {}: spool segment {} ends in a damaged record", path_, path);
    if (interrupted) {
      // Past the deadline: keep only what was not written, the traces read ahead and the unread
      // records (still counted as pending overflow when ours), and settle this run's overflow as
      // spooled for good.
      const auto began = Clock::now();
      bool kept = true;
      for (const PreparedBatch& b : untaken)
        if (kept && spool_->append_all(b.traces, &error, nullptr, StoreSpool::Cap::kMoved) != b.traces.size())
          kept = false;
      if (!kept || !segment->finish(*spool_, &error))
        spdlog::warn("trace store {}: cannot move the rest of {} to a new segment ({}); it stays as it is, and "
                     "the next start writes it in again, its traces already stored included", path_, path, error);
      spool_->rotate();
      note_spool_at_stop(began);
      std::lock_guard l(mu_);
      overflowed_ = false;
      settle_overflow();
    } else if (!keep && ::unlink(path.c_str()) != 0 && errno != ENOENT) {
      spdlog::warn("trace store {}: cannot remove spool segment {}: {}", path_, path, std::strerror(errno));
    }
    for (PreparedBatch& b : untaken) prep_->discard(std::move(b));
    spool_->recount();
  }
  if (!own && recovered > 0)
    spdlog::info("trace store {}: wrote in {} traces spooled by an earlier run ({})", path_, recovered, path);
  lock.lock();
}

void SqliteStore::maybe_prune() {
  // Chunked: between rounds the queue is written, so a large first prune never holds up new traces
  // for long.
  // A stop (stop_by() or the destructor) ends the pass before its next chunk; the next pass, in
  // this run or the next start, takes up what is left.
  auto stop_requested = [this] {
    std::lock_guard lock(mu_);
    return stopping();
  };
  PruneResult total;
  bool paused = false;
  for (;;) {
    PruneResult r = prune(db_, options_.retention, now_ns(), kPruneTraces, kPruneChunk, stop_requested);
    const bool nothing_yet = total.traces() == 0 && total.alerts == 0;
    if (nothing_yet && r.traces() == 0 && r.alerts == 0 && r.error.empty()) return;
    if (nothing_yet) total.bytes_before = r.bytes_before;
    total.traces_by_age += r.traces_by_age;
    total.traces_by_size += r.traces_by_size;
    total.spans += r.spans;
    total.alerts += r.alerts;
    total.bytes_after = r.bytes_after;
    if (!r.error.empty()) {
      spdlog::warn("trace store {}: retention stopped: {}", path_, r.error);
      break;
    }
    if (!r.more) break;
    std::unique_lock lock(mu_);
    while (!past_deadline() && write_queued(lock)) {
    }
    if (stopping()) {
      paused = true;
      break;
    }
  }
  if (total.traces() > 0 || total.alerts > 0)
    spdlog::info("trace store {}: {} ({}){}", path_, total.describe(options_.retention), options_.retention.describe(),
                 paused ? "; paused for the stop, the next start resumes it" : "");
}

void SqliteStore::write_elsewhere(const std::vector<Trace>& batch, const std::string& why) {
  if (!fallback_) {
    auto slash = path_.rfind('/');
    std::string name = slash == std::string::npos ? path_ : path_.substr(slash + 1);
    fallback_ = std::make_unique<UnstoredTraces>(name);
  }
  bool kept = fallback_->write(batch);
  std::lock_guard lock(out_mu_);
  bool first = outcome_.store_error.empty();
  if (first) outcome_.store_error = why;
  if (kept) {
    outcome_.unstored += batch.size();
    outcome_.fallback_path = fallback_->path();
  } else {
    outcome_.lost += batch.size();
    if (outcome_.fallback_error.empty()) outcome_.fallback_error = fallback_->error();
  }
  // The first failure is logged at once (the run goes on); outcome() has the totals at the end.
  if (first)
    spdlog::error("trace store {}: cannot store {} trace(s): {}; {}", path_, batch.size(), why,
                  kept ? "writing them to " + fallback_->path() + " instead" : "and " + fallback_->error());
}

// ---- reader ----

std::unique_ptr<TraceStoreReader> TraceStoreReader::open(const std::string& path, std::string* error) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 && errno == ENOENT) {
    *error = "no trace store at " + path + " (nothing recorded yet: run `llmtap proxy` or `llmtap run` first)";
    return nullptr;
  }
  // Before the damage check reads it: never through a link, never a file another user owns.
  std::string open_error;
  int fd = open_owned_file(path, O_RDONLY, 0, 0, &open_error);
  if (fd < 0) {
    *error = "trace store: " + open_error;
    return nullptr;
  }
  int stat_errno = ::fstat(fd, &st) == 0 ? 0 : errno;
  ::close(fd);
  if (stat_errno != 0) {
    *error = "cannot inspect trace store " + path + ": " + std::strerror(stat_errno);
    return nullptr;
  }
  // The full check (every page), not only the header: zeroed or torn pages past the header must be
  // reported, never read around (issue 18). It costs a read of the file per open.
  if (StoreCheck check = check_store_file(path); !check.ok()) {
    *error = check.result == StoreCheck::kDamaged
                 ? "trace store " + path + " is damaged: " + check.reason +
                       " (the next `llmtap proxy` or `llmtap run` moves it aside and starts a fresh store)"
                 : "trace store " + path + ": " + check.reason;
    return nullptr;
  }
  sqlite3* db = nullptr;
  int rc = SQLITE_OK, version = -1;
  auto open_read_only = [&] {
    // One thread per reader: no SQLite mutex around every call.
    rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW, nullptr);
    if (rc != SQLITE_OK) {
      *error = "cannot open trace store " + path + ": " + (db ? sqlite_reason(db, rc) : "out of memory");
      sqlite3_close(db);
      return false;
    }
    sqlite3_busy_timeout(db, 5000);
    sqlite3_extended_result_codes(db, 1);
    // Finalized before any sqlite3_close below: close fails (and leaks the connection) while a
    // statement is open.
    Stmt v(db, "PRAGMA user_version");
    rc = v.step();
    if (rc == SQLITE_ROW) version = static_cast<int>(v.i64(0));
    return true;
  };
  if (!open_read_only()) return nullptr;
  if (rc == SQLITE_ROW && version >= 1 && version < kStoreSchemaVersion) {
    // A store of an earlier llmtap: migrated once, here or by the next writer, whichever comes first.
    sqlite3_close(db);
    db = nullptr;
    std::string why;
    int from = 0;
    int orc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW,
                              nullptr);
    bool migrated = orc == SQLITE_OK && sql::exec(db, "PRAGMA journal_mode=WAL", &why) &&
                    (sqlite3_busy_timeout(db, 5000), bring_schema_up_to_date(db, &from, &why));
    if (orc != SQLITE_OK) why = db ? sqlite_reason(db, orc) : "out of memory";
    sqlite3_close(db);
    db = nullptr;
    if (!migrated) {
      *error = "trace store " + path + " has schema " + std::to_string(version) + " and cannot be migrated to " +
               std::to_string(kStoreSchemaVersion) + ": " + why;
      return nullptr;
    }
    spdlog::info("trace store {}: migrated schema {} -> {}", path, from, kStoreSchemaVersion);
    version = -1;
    if (!open_read_only()) return nullptr;
  }
  if (version < 1 || version > kStoreSchemaVersion) {
    const int primary = rc & 0xff;
    if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB)
      *error = "trace store " + path + " is damaged: " + sqlite_reason(db, rc) +
               " (the next `llmtap proxy` or `llmtap run` moves it aside and starts a fresh store)";
    else if (rc != SQLITE_ROW) *error = "cannot read trace store " + path + ": " + sqlite_reason(db, rc);
    else if (version < 1 && st.st_size == 0) *error = "trace store " + path + " is empty (nothing recorded yet)";
    else if (version < 1) *error = path + " is an SQLite database but not an llmtap trace store";
    else *error = "trace store " + path + " was written by a newer llmtap (schema " + std::to_string(version) +
                  ", this llmtap reads up to " + std::to_string(kStoreSchemaVersion) + ")";
    sqlite3_close(db);
    return nullptr;
  }
  std::unique_ptr<TraceStoreReader> reader(new TraceStoreReader(db, path));
  if (std::string e; !reader->keys_->load(&e)) {
    *error = reader->failed(e);
    return nullptr;
  }
  return reader;
}

TraceStoreReader::TraceStoreReader(sqlite3* db, std::string path)
    : db_(db), path_(std::move(path)), keys_(std::make_unique<KeyTable>(db, /*writable=*/false)) {}

TraceStoreReader::~TraceStoreReader() {
  keys_.reset();
  sqlite3_close(db_);
}

std::string TraceStoreReader::failed(const std::string& why) const {
  const int primary = sqlite3_errcode(db_) & 0xff;
  if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB || why.find("do not decode") != std::string::npos)
    return "trace store " + path_ + " is damaged: " + why +
           " (the next `llmtap proxy` or `llmtap run` moves it aside and starts a fresh store)";
  return "cannot read trace store " + path_ + ": " + why;
}

std::vector<TraceSummary> TraceStoreReader::recent(int limit) const {
  error_.clear();
  std::vector<TraceSummary> out;
  Stmt st(db_,
          "SELECT trace_id,start_ns,end_ns,workflow,agents,span_count,cost_usd,error_count FROM traces "
          "ORDER BY start_ns DESC, trace_id LIMIT ?1");
  st.bind(1, static_cast<std::int64_t>(limit));
  int rc;
  while ((rc = st.step()) == SQLITE_ROW) {
    TraceSummary t;
    t.trace_id = st.text(0);
    t.start_ns = st.i64(1);
    t.end_ns = st.i64(2);
    t.workflow = st.text(3);
    auto agents = nlohmann::json::parse(st.view(4), nullptr, false);
    if (agents.is_array())
      for (const auto& a : agents)
        if (a.is_string()) t.agents.push_back(a.get<std::string>());
    t.span_count = st.i64(5);
    if (!st.is_null(6)) t.cost_usd = st.dbl(6);
    t.error_count = st.i64(7);
    out.push_back(std::move(t));
  }
  if (rc != SQLITE_DONE) error_ = failed(sqlite_reason(db_, rc));
  return out;
}

std::vector<std::string> TraceStoreReader::ids_with_prefix(const std::string& prefix, int limit) const {
  error_.clear();
  std::vector<std::string> out;
  // Range scan on the primary key; ids are lowercase hex so '~' sorts after every id char.
  Stmt st(db_, "SELECT trace_id FROM traces WHERE trace_id >= ?1 AND trace_id < ?2 ORDER BY trace_id LIMIT ?3");
  st.bind(1, std::string_view(prefix)).bind(2, std::string_view(prefix + "~")).bind(3, static_cast<std::int64_t>(limit));
  int rc;
  while ((rc = st.step()) == SQLITE_ROW) out.push_back(st.text(0));
  if (rc != SQLITE_DONE) error_ = failed(sqlite_reason(db_, rc));
  return out;
}

std::optional<Trace> TraceStoreReader::get(const std::string& trace_id) const {
  error_.clear();
  Stmt spans(db_, spans_of_trace_sql(true).c_str());
  if (!spans.ok()) {
    error_ = failed(sqlite3_errmsg(db_));
    return std::nullopt;
  }
  Stmt events(db_, events_of_trace_sql());
  if (!events.ok()) {
    error_ = failed(sqlite3_errmsg(db_));
    return std::nullopt;
  }
  Trace trace;
  trace.trace_id = trace_id;
  std::string e = read_spans(spans, trace_id, true, {}, *keys_, trace);
  if (e.empty()) e = read_events(events, trace);
  if (!e.empty()) {
    error_ = failed(e);
    return std::nullopt;
  }
  if (trace.spans.empty()) return std::nullopt;
  return trace;
}

std::string TraceStoreReader::scan(const TraceScan& scan, const std::function<bool(Trace&& trace)>& visit) const {
  // The trace list comes from an index (time, or workflow and time); each trace's spans from the
  // spans_by_trace index. The content blob is not read when every content key is skipped.
  bool with_content = false;
  for (const auto& k : content_keys())
    with_content |= std::find(scan.skip_keys.begin(), scan.skip_keys.end(), k) == scan.skip_keys.end();
  // A projection scan reads one row per trace (traces.report); a trace stored before schema 3 has
  // none and is read from its spans and projected here, so the visitor sees the same either way.
  if (scan.report_projection) with_content = false;
  Stmt spans(db_, spans_of_trace_sql(with_content).c_str());
  std::string ids_sql = scan.workflow.empty() ? "SELECT trace_id, report FROM traces WHERE start_ns>=?1 AND start_ns<?2"
                                              : "SELECT trace_id, report FROM traces WHERE workflow=?3 AND start_ns>=?1 AND start_ns<?2";
  ids_sql += scan.newest_first ? " ORDER BY start_ns DESC, trace_id DESC" : " ORDER BY start_ns, trace_id";
  Stmt ids(db_, ids_sql.c_str());
  Stmt one(db_, "SELECT start_ns, workflow, report FROM traces WHERE trace_id=?1");
  Stmt events(db_, events_of_trace_sql());
  for (auto* st : {&spans, &ids, &one, &events})
    if (!st->ok()) return failed(sqlite3_errmsg(db_));

  std::string error;
  // PROJECTION: the row's report column (empty when NULL or not asked for).
  auto load = [&](const std::string& trace_id, std::string_view projection, Trace& trace) {
    trace.trace_id = trace_id;
    if (scan.report_projection && !projection.empty()) {
      if (decode_report_projection(projection, *keys_, trace)) return true;
      error = "the report projection of trace " + trace_id + " does not decode";
      return false;
    }
    error = read_spans(spans, trace_id, with_content, scan.skip_keys, *keys_, trace);
    if (error.empty() && !scan.report_projection) error = read_events(events, trace);
    if (error.empty() && scan.report_projection) trace = report_projection(trace);
    return error.empty();
  };

  if (!scan.trace_ids.empty()) {
    for (const auto& id : scan.trace_ids) {
      if (int rc = one.bind(1, std::string_view(id)).step(); rc != SQLITE_ROW) {
        one.reset();
        if (rc != SQLITE_DONE) return failed(sqlite_reason(db_, rc));
        continue;
      }
      const UnixNanos start = one.i64(0);
      const std::string wf = one.text(1);
      const std::string projection(one.blob(2));
      one.reset();
      if (start < scan.since || start >= scan.until || (!scan.workflow.empty() && wf != scan.workflow)) continue;
      Trace t;
      if (!load(id, projection, t)) return failed(error);
      if (!t.spans.empty() && !visit(std::move(t))) break;
    }
    return "";
  }
  ids.bind(1, scan.since).bind(2, scan.until);
  if (!scan.workflow.empty()) ids.bind(3, std::string_view(scan.workflow));
  int rc;
  while ((rc = ids.step()) == SQLITE_ROW) {
    Trace t;
    if (!load(ids.text(0), ids.blob(1), t)) return failed(error);
    if (!t.spans.empty() && !visit(std::move(t))) return "";
  }
  if (rc != SQLITE_DONE) return failed(sqlite_reason(db_, rc));
  return "";
}

}  // namespace llmtap::exporting
