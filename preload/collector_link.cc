#include "preload/collector_link.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace llmtap::preload {

std::int64_t realtime_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::int64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

CollectorLink::~CollectorLink() { disconnect(); }

void CollectorLink::disconnect() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

bool CollectorLink::ensure_connected() {
  if (fd_ >= 0) return true;
  if (path_.empty()) return false;
  const std::int64_t now = monotonic_ns();
  if (attempted_ && now - last_attempt_ns_ < kReconnectIntervalNs) return false;
  attempted_ = true;
  last_attempt_ns_ = now;

  sockaddr_un addr{};
  if (refused_ || path_.size() >= sizeof(addr.sun_path)) return false;
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path_.data(), path_.size());
  // Plaintext (headers with API keys included) goes only to a collector run by this user: the
  // socket file must be ours, and so must the process that answers on it.
  struct stat st {};
  if (lstat(path_.c_str(), &st) != 0) return false;  // no collector (yet): retry later
  if (!S_ISSOCK(st.st_mode)) return refuse("is not a socket", st.st_uid);
  if (st.st_uid != geteuid()) return refuse("is owned by another user", st.st_uid);
  const int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  // On a Unix socket a non-blocking connect completes at once or fails (EAGAIN: backlog full).
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return false;
  }
  ucred peer{};
  socklen_t peer_len = sizeof peer;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &peer_len) != 0 || peer.uid != geteuid()) {
    close(fd);
    return refuse("is served by a process of another user", peer.uid);
  }
  // Room for bursts while the collector is busy (the kernel caps this at net.core.wmem_max).
  const int sndbuf = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  fd_ = fd;
  ++generation_;
  wire::HelloPayload hello;
  hello.pid = static_cast<std::uint64_t>(getpid());
  if (!send(wire::RecordType::kHello, 0, 0, realtime_ns(), &hello, sizeof hello)) {
    disconnect();
    return false;
  }
  return true;
}

bool CollectorLink::send(wire::RecordType type, std::uint8_t dir, std::uint64_t conn_id,
                         std::int64_t ts_ns, const void* p1, std::size_t n1, const void* p2,
                         std::size_t n2) {
  if (fd_ < 0) return false;
  wire::RecordHeader h;
  h.type = static_cast<std::uint8_t>(type);
  h.direction = dir;
  h.payload_len = static_cast<std::uint32_t>(n1 + n2);
  h.conn_id = conn_id;
  h.ts_ns = ts_ns;
  iovec iov[3] = {{&h, sizeof h}, {const_cast<void*>(p1), n1}, {const_cast<void*>(p2), n2}};
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = 3;
  for (;;) {
    const ssize_t r = sendmsg(fd_, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (r >= 0) return true;
    if (errno == EINTR) continue;
    // EAGAIN/ENOBUFS: the collector is behind; keep the socket, drop this record.
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS) disconnect();
    return false;
  }
}

bool CollectorLink::refuse(const char* why, unsigned owner_uid) {
  refused_ = true;
  char msg[512];
  int n = std::snprintf(msg, sizeof msg,
                        "llmtap preload: not capturing: collector socket %s %s (uid %u; this process runs as uid "
                        "%u)\n",
                        path_.c_str(), why, owner_uid, static_cast<unsigned>(geteuid()));
  if (n > 0) {
    [[maybe_unused]] ssize_t w = write(STDERR_FILENO, msg, std::min<std::size_t>(static_cast<std::size_t>(n), sizeof msg - 1));
  }
  return false;
}

void CollectorLink::reset_after_fork() {
  disconnect();  // closes only the child's descriptor; the parent's socket is unaffected
  attempted_ = false;
}

}  // namespace llmtap::preload
