#include "collector/collector_socket.h"

#include <errno.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <cstring>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "preload/wire_format.h"
#include "common/thread_priority.h"

namespace llmtap {
namespace {

constexpr std::size_t kRecvBuf = sizeof(wire::RecordHeader) + wire::kMaxPayload + 1;
constexpr std::uint32_t kMaxMalformedPerSession = 64;  // then the peer is not a shim: hang up

bool make_addr(const std::string& path, sockaddr_un* addr) {
  std::memset(addr, 0, sizeof *addr);
  if (path.empty() || path.size() >= sizeof(addr->sun_path)) return false;
  addr->sun_family = AF_UNIX;
  std::memcpy(addr->sun_path, path.data(), path.size());
  return true;
}

// True when something accepts connections at PATH (a live collector).
bool socket_is_live(const sockaddr_un& addr) {
  const int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const bool live = connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return live;
}

}  // namespace

struct CollectorSocket::Loop {
  struct Session {
    int fd = -1;
    std::uint64_t pid = 0;
    std::unordered_map<std::uint64_t, std::uint64_t> ids;  // shim conn id -> Tap conn id
    std::uint32_t malformed = 0;
  };

  using Clock = std::chrono::steady_clock;

  Loop(int lfd, int wfd, Tap& t, const CollectorSocketLimits& l)
      : listen_fd(lfd), wake_fd(wfd), tap(t), limits(l), buf(kRecvBuf) {}
  ~Loop() {
    for (Session& s : sessions) end_session(s);
    ::close(listen_fd);
    ::close(wake_fd);
  }

  void run() {
    std::vector<pollfd> fds;
    for (;;) {
      fds.clear();
      fds.push_back({wake_fd, POLLIN, 0});
      // While accepting is paused the listening socket stays out of the set: it would be readable
      // (the backlog is waiting) and poll would return at once, again and again.
      int timeout_ms = -1;
      if (accept_paused_until) {
        auto left = std::chrono::ceil<std::chrono::milliseconds>(*accept_paused_until - Clock::now());
        if (left.count() <= 0) accept_paused_until.reset();
        else timeout_ms = static_cast<int>(left.count());
      }
      fds.push_back({listen_fd, static_cast<short>(accept_paused_until ? 0 : POLLIN), 0});
      for (const Session& s : sessions) fds.push_back({s.fd, POLLIN, 0});
      if (poll(fds.data(), fds.size(), timeout_ms) < 0) {
        if (errno == EINTR) continue;
        break;
      }
      if (fds[0].revents != 0) break;
      if (fds[1].revents & POLLIN) accept_all();
      // Sessions may have been appended by accept_all(); only the polled ones are looked at.
      for (std::size_t i = 2; i < fds.size(); ++i) {
        if (fds[i].revents != 0 && !read_session(sessions[i - 2])) end_session(sessions[i - 2]);
      }
      std::erase_if(sessions, [](const Session& s) { return s.fd < 0; });
    }
    // Stopping: take what the shims already sent, then end every session.
    for (Session& s : sessions) {
      if (s.fd >= 0) read_session(s);
      end_session(s);
    }
    sessions.clear();
  }

  void accept_all() {
    for (;;) {
      const int fd = accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) pause_accepting();
        return;  // EAGAIN, or a transient error: poll tells us when to retry
      }
      ucred peer{};
      socklen_t len = sizeof peer;
      const bool same_user =
          getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &len) == 0 && (peer.uid == geteuid() || peer.uid == 0);
      if (!same_user || sessions.size() >= limits.max_sessions) {
        ::close(fd);
        const std::uint64_t n = ++sessions_refused;
        if (n == 1 || n % 1000 == 0)
          spdlog::warn("collector: refused {} shim session(s) so far ({})", n,
                       same_user ? "at the limit of " + std::to_string(limits.max_sessions) + " sessions"
                                 : "peer of uid " + std::to_string(peer.uid) + ", not this user");
        continue;
      }
      Session s;
      s.fd = fd;
      sessions.push_back(std::move(s));
      ++sessions_accepted;
    }
  }

  void pause_accepting() {
    accept_paused_until = Clock::now() + limits.accept_backoff;
    const std::uint64_t n = ++accept_pauses;
    if (n == 1 || n % 100 == 0)
      spdlog::warn("collector: out of file descriptors ({}); pausing new shim sessions for {} ms ({} time(s) so far)",
                   std::strerror(errno), limits.accept_backoff.count(), n);
  }

  // Reads every queued message. False when the peer hung up or misbehaves.
  bool read_session(Session& s) {
    for (;;) {
      iovec iov{buf.data(), buf.size()};
      msghdr msg{};
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      const ssize_t n = recvmsg(s.fd, &msg, MSG_DONTWAIT);
      if (n == 0) return false;
      if (n < 0) {
        if (errno == EINTR) continue;
        return errno == EAGAIN || errno == EWOULDBLOCK;
      }
      wire::Record rec;
      if ((msg.msg_flags & MSG_TRUNC) != 0 || !wire::decode_record(buf.data(), static_cast<std::size_t>(n), &rec)) {
        ++malformed;
        if (++s.malformed > kMaxMalformedPerSession) return false;
        continue;
      }
      ++records;
      apply(s, rec);
    }
  }

  void apply(Session& s, const wire::Record& rec) {
    const auto& h = rec.header;
    const auto dir = static_cast<Direction>(h.direction);
    switch (static_cast<wire::RecordType>(h.type)) {
      case wire::RecordType::kHello: {
        wire::HelloPayload hello;
        std::memcpy(&hello, rec.payload, sizeof hello);
        s.pid = hello.pid;
        return;
      }
      case wire::RecordType::kOpen: {
        wire::OpenPayload open;
        std::memcpy(&open, rec.payload, sizeof open);
        auto it = s.ids.find(h.conn_id);
        if (it != s.ids.end()) {
          tap.close(it->second, h.ts_ns);
          s.ids.erase(it);
          --open_connections;
        }
        if (s.ids.size() >= limits.max_connections_per_session || open_connections >= limits.max_connections) {
          // Its data records find no mapping and are ignored: memory stays bounded.
          const std::uint64_t n = ++connections_refused;
          if (n == 1 || n % 1000 == 0)
            spdlog::warn("collector: not capturing {} connection(s) so far: over the limit of {} per process / {} "
                         "in all",
                         n, limits.max_connections_per_session, limits.max_connections);
          return;
        }
        ++open_connections;
        const std::uint64_t id = kConnIdBase + next_id++;
        s.ids.emplace(h.conn_id, id);
        ConnectionInfo info;
        info.host.assign(rec.payload + sizeof open, open.host_len);
        info.port = open.port;
        info.tls = open.tls != 0;
        info.source = "preload";
        info.client_pid = open.pid != 0 ? open.pid : s.pid;
        ++connections_opened;
        tap.open(id, info, h.ts_ns);
        return;
      }
      case wire::RecordType::kData: {
        auto it = s.ids.find(h.conn_id);
        if (it != s.ids.end() && rec.payload_len > 0) {
          tap.data(it->second, dir, std::string_view(rec.payload, rec.payload_len), h.ts_ns);
        }
        return;
      }
      case wire::RecordType::kGap: {
        auto it = s.ids.find(h.conn_id);
        if (it != s.ids.end()) tap.gap(it->second, dir, h.ts_ns);
        return;
      }
      case wire::RecordType::kClose: {
        auto it = s.ids.find(h.conn_id);
        if (it != s.ids.end()) {
          tap.close(it->second, h.ts_ns);
          s.ids.erase(it);
          --open_connections;
        }
        return;
      }
    }
  }

  // The shim process is gone (or misbehaved): its connections end here.
  void end_session(Session& s) {
    if (s.fd < 0) return;
    ::close(s.fd);
    s.fd = -1;
    const UnixNanos ts = now_ns();
    for (const auto& [local, id] : s.ids) tap.close(id, ts);
    open_connections -= s.ids.size();
    s.ids.clear();
  }

  int listen_fd;
  int wake_fd;
  Tap& tap;
  const CollectorSocketLimits limits;
  std::vector<char> buf;
  std::vector<Session> sessions;
  std::uint64_t next_id = 1;
  std::size_t open_connections = 0;
  std::optional<Clock::time_point> accept_paused_until;
  std::atomic<std::uint64_t> sessions_refused{0};
  std::atomic<std::uint64_t> connections_refused{0};
  std::atomic<std::uint64_t> accept_pauses{0};
  std::atomic<std::uint64_t> sessions_accepted{0};
  std::atomic<std::uint64_t> records{0};
  std::atomic<std::uint64_t> malformed{0};
  std::atomic<std::uint64_t> connections_opened{0};
};

std::unique_ptr<CollectorSocket> CollectorSocket::start(const std::string& path, Tap& tap,
                                                        std::string* error, const CollectorSocketLimits& limits) {
  auto fail = [&](const std::string& what) -> std::unique_ptr<CollectorSocket> {
    if (error != nullptr) *error = what;
    return nullptr;
  };
  sockaddr_un addr;
  if (!make_addr(path, &addr)) return fail("collector socket path is empty or too long: " + path);
  struct stat st{};
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) return fail("collector socket path exists and is not a socket: " + path);
    if (socket_is_live(addr)) return fail("another collector is listening on " + path);
    ::unlink(path.c_str());  // stale, left by a collector that died
  }
  const int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(std::string("socket: ") + std::strerror(errno));
  if (bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    const int e = errno;
    ::close(fd);
    return fail("bind " + path + ": " + std::strerror(e));
  }
  // Only the owner may feed the collector (the data dir is 0700 as well).
  if (chmod(path.c_str(), 0600) != 0 || listen(fd, 128) != 0) {
    const int e = errno;
    ::close(fd);
    ::unlink(path.c_str());
    return fail("listen " + path + ": " + std::strerror(e));
  }
  const int wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake < 0) {
    ::close(fd);
    ::unlink(path.c_str());
    return fail(std::string("eventfd: ") + std::strerror(errno));
  }
  return std::unique_ptr<CollectorSocket>(new CollectorSocket(path, fd, wake, tap, limits));
}

CollectorSocket::CollectorSocket(std::string path, int listen_fd, int wake_fd, Tap& tap,
                                 const CollectorSocketLimits& limits)
    : path_(std::move(path)), loop_(std::make_unique<Loop>(listen_fd, wake_fd, tap, limits)) {
  thread_ = std::thread([this] {
    name_this_thread("llmtap-collect");
    loop_->run();
  });
}

CollectorSocket::~CollectorSocket() { stop(); }

void CollectorSocket::stop() {
  if (!thread_.joinable()) return;
  const std::uint64_t one = 1;
  [[maybe_unused]] ssize_t w = write(loop_->wake_fd, &one, sizeof one);
  thread_.join();
  ::unlink(path_.c_str());
}

CollectorSocketStats CollectorSocket::stats() const {
  CollectorSocketStats s;
  s.sessions_accepted = loop_->sessions_accepted.load();
  s.records = loop_->records.load();
  s.malformed = loop_->malformed.load();
  s.connections_opened = loop_->connections_opened.load();
  s.sessions_refused = loop_->sessions_refused.load();
  s.connections_refused = loop_->connections_refused.load();
  s.accept_pauses = loop_->accept_pauses.load();
  return s;
}

}  // namespace llmtap
