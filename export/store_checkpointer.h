#pragma once
// Moves WAL checkpoints off the store's writer thread: the writer's connection no longer
// checkpoints on commit (wal_autocheckpoint=0); a thread with its own connection copies the WAL into
// the database (PASSIVE: never waits on the writer) whenever the writer's commits grew the WAL past
// kCheckpointPages, and once a second. Checkpoints were about a sixth of the writer's CPU. Should
// this thread fall behind (or fail to open), the writer checkpoints itself past 4x the threshold, so
// the WAL stays bounded either way.
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

struct sqlite3;

namespace llmtap::exporting {

class StoreCheckpointer {
 public:
  static constexpr int kCheckpointPages = 4096;  // 16 MB of 4 KB pages, the writer's former autocheckpoint

  // Starts checkpointing the WAL of the store at PATH, whose writer connection is WRITER_DB (its
  // commits are watched through sqlite3_wal_hook).
  StoreCheckpointer(const std::string& path, sqlite3* writer_db);
  // Stops the thread, interrupting a checkpoint under way (a stop must not wait for it); the
  // writer's close does the last checkpoint (checkpoint_before_close).
  ~StoreCheckpointer();
  StoreCheckpointer(const StoreCheckpointer&) = delete;
  StoreCheckpointer& operator=(const StoreCheckpointer&) = delete;

 private:
  static int on_commit(void* self, sqlite3* db, const char* schema, int wal_pages);
  void run();

  std::string path_;
  sqlite3* writer_db_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool due_ = false, stop_ = false;
  sqlite3* own_db_ = nullptr;  // under mu_: this thread's connection while it is open
  std::thread thread_;
};

// The last connection's close copies the whole WAL into the database, up to 4x kCheckpointPages
// (64 MB) when the checkpoint thread was behind: about a second on a loaded machine, after a stop
// has spent its budget. This copies it first, interrupted at BY: what is not copied by then stays in
// the WAL (SQLite reads it from there and the next run's checkpoints copy it in), and the close
// that follows is told not to checkpoint. Call on the writer's connection, with nothing else using
// it, just before sqlite3_close.
struct CloseCheckpoint {
  long long wal_bytes = 0;  // left in the WAL for the next open; 0 when it was copied in (the close removes it)
  long long ms = 0;
};
CloseCheckpoint checkpoint_before_close(sqlite3* db, const std::string& path, std::chrono::steady_clock::time_point by);

}  // namespace llmtap::exporting
