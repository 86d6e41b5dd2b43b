#pragma once
// The shim's end of the collector socket: a non-blocking SOCK_SEQPACKET Unix socket. Sending never
// blocks; a full socket or a missing collector makes send() return false and the caller records a
// gap. Reconnects are attempted at most every kReconnectIntervalNs. It connects only to a socket
// owned by, and served by a process of, its own effective uid (else it captures nothing and says so
// once on stderr). Not thread-safe: the capture state calls it under its own lock.
#include <cstddef>
#include <cstdint>
#include <string>

#include "preload/wire_format.h"

namespace llmtap::preload {

class CollectorLink {
 public:
  static constexpr std::int64_t kReconnectIntervalNs = 200'000'000;

  explicit CollectorLink(std::string path) : path_(std::move(path)) {}
  ~CollectorLink();

  // Connected, or connected now (rate-limited attempt). Each successful connect starts a new
  // generation: connections opened under an older one must be announced again.
  bool ensure_connected();
  std::uint32_t generation() const { return generation_; }

  // One record, header + up to two payload parts, as a single message. false: not sent (dropped).
  bool send(wire::RecordType type, std::uint8_t dir, std::uint64_t conn_id, std::int64_t ts_ns,
            const void* p1, std::size_t n1, const void* p2 = nullptr, std::size_t n2 = 0);

  // In a forked child: forget the parent's socket without touching it.
  void reset_after_fork();

 private:
  void disconnect();
  // The socket is not this user's: capture nothing from now on, and say so once on stderr.
  bool refuse(const char* why, unsigned owner_uid);

  std::string path_;
  int fd_ = -1;
  std::uint32_t generation_ = 0;
  std::int64_t last_attempt_ns_ = 0;
  bool attempted_ = false;
  bool refused_ = false;  // kept across fork: the child's collector is the same socket
};

std::int64_t realtime_ns();
std::int64_t monotonic_ns();

}  // namespace llmtap::preload
