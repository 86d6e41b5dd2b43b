#pragma once
// The collector end of the preload shim's Unix socket (SOCK_SEQPACKET, mode 0600, by default
// <data_dir>/collector.sock). Accepts any number of shim processes, decodes their records
// (preload/wire_format.h) on its own thread and reports them to a Tap. Connection ids are the
// shim's per-process ids remapped into one space (starting at kConnIdBase, above the proxy's ids).
// Malformed messages are dropped; a shim that disconnects has its open connections closed.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "collector/tap.h"

namespace llmtap {

struct CollectorSocketStats {
  std::uint64_t sessions_accepted = 0;
  std::uint64_t records = 0;
  std::uint64_t malformed = 0;  // dropped messages that were not valid records
  std::uint64_t connections_opened = 0;
};

class CollectorSocket {
 public:
  static constexpr std::uint64_t kConnIdBase = 1ull << 62;

  static std::string default_path(const std::string& data_dir) { return data_dir + "/collector.sock"; }

  // Binds PATH (replacing a stale socket file; failing if a live collector answers there) and
  // starts the reader thread. Returns nullptr and sets *error on failure.
  static std::unique_ptr<CollectorSocket> start(const std::string& path, Tap& tap, std::string* error);

  ~CollectorSocket();  // stop()
  CollectorSocket(const CollectorSocket&) = delete;
  CollectorSocket& operator=(const CollectorSocket&) = delete;

  const std::string& path() const { return path_; }
  // Reads what the shims already sent, closes every session (their connections end in the Tap),
  // removes the socket file and joins the thread. Idempotent.
  void stop();
  CollectorSocketStats stats() const;

 private:
  struct Loop;
  CollectorSocket(std::string path, int listen_fd, int wake_fd, Tap& tap);

  std::string path_;
  std::unique_ptr<Loop> loop_;
  std::thread thread_;
};

}  // namespace llmtap
