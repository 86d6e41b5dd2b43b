#pragma once
// The collector end of the preload shim's Unix socket (SOCK_SEQPACKET, mode 0600, by default
// <data_dir>/collector.sock). Accepts any number of shim processes, decodes their records
// (preload/wire_format.h) on its own thread and reports them to a Tap. Connection ids are the
// shim's per-process ids remapped into one space (starting at kConnIdBase, above the proxy's ids).
// Malformed messages are dropped; a shim that disconnects has its open connections closed. Only
// peers of this user (or root) are served; sessions and connections are bounded (limits below,
// refusals logged and counted), and running out of descriptors pauses accepting briefly.
#include <atomic>
#include <chrono>
#include <cstddef>
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
  std::uint64_t sessions_refused = 0;     // over max_sessions, or a peer of another user
  std::uint64_t connections_refused = 0;  // open records over the connection limits (their data is ignored)
  std::uint64_t accept_pauses = 0;        // times accepting paused for lack of descriptors
};

// Bounds on what shims can make the collector hold (memory, descriptors, Tap connections).
struct CollectorSocketLimits {
  std::size_t max_sessions = 1024;                // shim processes connected at once
  std::size_t max_connections_per_session = 1024; // open TLS connections announced by one process
  std::size_t max_connections = 4096;             // open connections over all sessions
  // Out of descriptors (EMFILE/ENFILE): stop accepting this long instead of retrying at once.
  std::chrono::milliseconds accept_backoff{100};
};

class CollectorSocket {
 public:
  static constexpr std::uint64_t kConnIdBase = 1ull << 62;

  static std::string default_path(const std::string& data_dir) { return data_dir + "/collector.sock"; }

  // Binds PATH (replacing a stale socket file; failing if a live collector answers there) and
  // starts the reader thread. Returns nullptr and sets *error on failure.
  static std::unique_ptr<CollectorSocket> start(const std::string& path, Tap& tap, std::string* error,
                                                 const CollectorSocketLimits& limits = {});

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
  CollectorSocket(std::string path, int listen_fd, int wake_fd, Tap& tap, const CollectorSocketLimits& limits);

  std::string path_;
  std::unique_ptr<Loop> loop_;
  std::thread thread_;
};

}  // namespace llmtap
