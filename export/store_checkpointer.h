#pragma once
// Moves WAL checkpoints off the store's writer thread: the writer's connection no longer
// checkpoints on commit (wal_autocheckpoint=0); a thread with its own connection copies the WAL into
// the database (PASSIVE: never waits on the writer) whenever the writer's commits grew the WAL past
// kCheckpointPages, and once a second. Checkpoints were about a sixth of the writer's CPU. Should
// this thread fall behind (or fail to open), the writer checkpoints itself past 4x the threshold, so
// the WAL stays bounded either way.
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
  ~StoreCheckpointer();  // stops the thread; the writer's close does the last checkpoint
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
  std::thread thread_;
};

}  // namespace llmtap::exporting
