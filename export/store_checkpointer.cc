#include "export/store_checkpointer.h"

#include <sqlite3.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>

#include "common/thread_priority.h"

namespace llmtap::exporting {

StoreCheckpointer::StoreCheckpointer(const std::string& path, sqlite3* writer_db) : path_(path), writer_db_(writer_db) {
  sqlite3_wal_autocheckpoint(writer_db_, 0);
  sqlite3_wal_hook(writer_db_, &StoreCheckpointer::on_commit, this);
  thread_ = std::thread([this] {
    enter_background_thread("llmtap-ckpt");
    run();
  });
}

StoreCheckpointer::~StoreCheckpointer() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    if (own_db_) sqlite3_interrupt(own_db_);  // PASSIVE checkpoints stop between pages
  }
  cv_.notify_all();
  thread_.join();
  // Back to SQLite's own checkpoints for whatever the writer's connection does after this.
  sqlite3_wal_autocheckpoint(writer_db_, kCheckpointPages);
}

// On the writer's thread, after each commit.
int StoreCheckpointer::on_commit(void* p, sqlite3* db, const char* schema, int wal_pages) {
  auto* self = static_cast<StoreCheckpointer*>(p);
  if (wal_pages >= 4 * kCheckpointPages) {
    // The checkpoint thread is behind (or could not open): keep the WAL bounded here.
    sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  } else if (wal_pages >= kCheckpointPages) {
    {
      std::lock_guard lock(self->mu_);
      self->due_ = true;
    }
    self->cv_.notify_one();
  }
  return SQLITE_OK;
}

void StoreCheckpointer::run() {
  sqlite3* db = nullptr;
  if (int rc = sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW,
                               nullptr);
      rc != SQLITE_OK) {
    spdlog::debug("trace store {}: checkpoint connection: {}; the writer checkpoints", path_,
                  db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    return;  // on_commit's bound applies
  }
  sqlite3_busy_timeout(db, 0);  // PASSIVE never waits; a busy database is tried again at the next commit
  std::unique_lock lock(mu_);
  own_db_ = db;
  while (!stop_) {
    cv_.wait_for(lock, std::chrono::seconds(1), [&] { return due_ || stop_; });
    if (stop_) break;
    due_ = false;
    lock.unlock();
    sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    lock.lock();
  }
  own_db_ = nullptr;
  lock.unlock();
  sqlite3_close(db);
}

CloseCheckpoint checkpoint_before_close(sqlite3* db, const std::string& path, std::chrono::steady_clock::time_point by) {
  using Clock = std::chrono::steady_clock;
  const auto began = Clock::now();
  CloseCheckpoint out;
  int rc = SQLITE_INTERRUPT;
  if (began < by) {
    // A watchdog interrupts the copy at BY; sqlite3_interrupt is safe from another thread.
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    std::thread watchdog([&] {
      std::unique_lock lock(mu);
      if (!cv.wait_until(lock, by, [&] { return done; })) sqlite3_interrupt(db);
    });
    rc = sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    {
      std::lock_guard lock(mu);
      done = true;
    }
    cv.notify_all();
    watchdog.join();
  }
  out.ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - began).count();
  if (rc == SQLITE_OK) return out;
  // Not copied in by BY (or it failed): the close must not copy it either.
  sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
  std::error_code ec;
  const auto size = std::filesystem::file_size(path + "-wal", ec);
  out.wal_bytes = ec ? 0 : static_cast<long long>(size);
  return out;
}

}  // namespace llmtap::exporting
