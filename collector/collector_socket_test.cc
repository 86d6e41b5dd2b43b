#include "collector/collector_socket.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "preload/wire_format.h"

namespace llmtap {
namespace {

// A Tap that logs what it is told and lets the test wait for a number of events.
struct LogTap : Tap {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> events;
  std::vector<std::uint64_t> open_ids;
  std::vector<ConnectionInfo> infos;

  void add(std::string e) {
    std::lock_guard<std::mutex> lock(mu);
    events.push_back(std::move(e));
    cv.notify_all();
  }
  void open(std::uint64_t id, const ConnectionInfo& info, UnixNanos) noexcept override {
    {
      std::lock_guard<std::mutex> lock(mu);
      open_ids.push_back(id);
      infos.push_back(info);
    }
    add("open " + info.host);
  }
  void data(std::uint64_t, Direction dir, std::string_view b, UnixNanos) noexcept override {
    add(std::string("data ") + (dir == Direction::kClientToServer ? "c " : "s ") + std::string(b));
  }
  void gap(std::uint64_t, Direction, UnixNanos) noexcept override { add("gap"); }
  void close(std::uint64_t, UnixNanos) noexcept override { add("close"); }

  // Generous bound: only a broken collector takes this long; nothing is timed on the happy path.
  bool wait_for(std::size_t n) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(60), [&] { return events.size() >= n; });
  }
};

// A socket path in a fresh directory, removed with everything in it at exit of the test.
class TempSocketPath {
 public:
  TempSocketPath() {
    char tmpl[] = "/tmp/llmtap-sock-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  ~TempSocketPath() { std::filesystem::remove_all(dir_); }
  operator std::string() const { return dir_ + "/collector.sock"; }

 private:
  std::string dir_;
};

int connect_to(const std::string& path) {
  const int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

void send_record(int fd, wire::RecordType type, std::uint8_t dir, std::uint64_t conn, const std::string& payload) {
  wire::RecordHeader h;
  h.type = static_cast<std::uint8_t>(type);
  h.direction = dir;
  h.payload_len = static_cast<std::uint32_t>(payload.size());
  h.conn_id = conn;
  h.ts_ns = 5;
  std::string msg(reinterpret_cast<const char*>(&h), sizeof h);
  msg += payload;
  ASSERT_EQ(send(fd, msg.data(), msg.size(), MSG_NOSIGNAL), static_cast<ssize_t>(msg.size()));
}

std::string open_payload(const std::string& host, std::uint64_t pid) {
  wire::OpenPayload o;
  o.pid = pid;
  o.port = 443;
  o.host_len = static_cast<std::uint16_t>(host.size());
  return std::string(reinterpret_cast<const char*>(&o), sizeof o) + host;
}

TEST(CollectorSocketTest, DecodesRecordsFromSeveralProcessesWithDistinctIds) {
  LogTap tap;
  const TempSocketPath temp;
  const std::string path = temp;
  std::string error;
  auto sock = CollectorSocket::start(path, tap, &error);
  ASSERT_NE(sock, nullptr) << error;
  struct stat st{};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  const int a = connect_to(path);
  const int b = connect_to(path);
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  send_record(a, wire::RecordType::kOpen, 0, 1, open_payload("api.openai.com", 100));
  ASSERT_TRUE(tap.wait_for(1));
  send_record(b, wire::RecordType::kOpen, 0, 1, open_payload("api.anthropic.com", 200));  // same local id
  ASSERT_TRUE(tap.wait_for(2));
  send_record(a, wire::RecordType::kData, 0, 1, "GET / HTTP/1.1\r\n");
  send_record(a, wire::RecordType::kGap, 1, 1, "");
  send_record(a, wire::RecordType::kData, 1, 1, "HTTP/1.1 200 OK\r\n");
  send_record(a, wire::RecordType::kClose, 0, 1, "");
  ASSERT_TRUE(tap.wait_for(6));
  {
    std::lock_guard<std::mutex> lock(tap.mu);
    EXPECT_EQ(tap.events, (std::vector<std::string>{"open api.openai.com", "open api.anthropic.com",
                                                    "data c GET / HTTP/1.1\r\n", "gap",
                                                    "data s HTTP/1.1 200 OK\r\n", "close"}));
    ASSERT_EQ(tap.open_ids.size(), 2u);
    EXPECT_NE(tap.open_ids[0], tap.open_ids[1]);
    EXPECT_GE(tap.open_ids[0], CollectorSocket::kConnIdBase);
    EXPECT_EQ(tap.infos[0].client_pid, 100u);
    EXPECT_EQ(tap.infos[1].client_pid, 200u);
    EXPECT_EQ(tap.infos[0].source, "preload");
    EXPECT_EQ(tap.infos[0].port, 443);
  }
  // Abrupt disconnect of b: its open connection is closed in the Tap.
  ::close(b);
  ASSERT_TRUE(tap.wait_for(7));
  EXPECT_EQ(tap.events.back(), "close");
  ::close(a);
  sock->stop();
  EXPECT_NE(stat(path.c_str(), &st), 0);  // socket file removed
}

TEST(CollectorSocketTest, GarbageIsDroppedAndTheSessionGoesOn) {
  LogTap tap;
  const TempSocketPath temp;
  const std::string path = temp;
  std::string error;
  auto sock = CollectorSocket::start(path, tap, &error);
  ASSERT_NE(sock, nullptr) << error;
  const int a = connect_to(path);
  ASSERT_GE(a, 0);
  const std::string junk = "this is not a record";
  ASSERT_GT(send(a, junk.data(), junk.size(), MSG_NOSIGNAL), 0);
  send_record(a, wire::RecordType::kData, 0, 42, "data for a connection never opened");
  send_record(a, wire::RecordType::kOpen, 0, 3, open_payload("api.openai.com", 1));
  send_record(a, wire::RecordType::kData, 0, 3, "ok");
  ASSERT_TRUE(tap.wait_for(2));
  EXPECT_EQ(tap.events[0], "open api.openai.com");
  EXPECT_EQ(tap.events[1], "data c ok");
  EXPECT_EQ(sock->stats().malformed, 1u);
  // A peer that only sends garbage is eventually hung up on.
  for (int i = 0; i < 100; ++i) send(a, junk.data(), junk.size(), MSG_NOSIGNAL);
  char c;
  EXPECT_LE(recv(a, &c, 1, 0), 0);  // EOF or reset once the collector closed its end
  ASSERT_TRUE(tap.wait_for(3));
  EXPECT_EQ(tap.events[2], "close");
  ::close(a);
}

TEST(CollectorSocketTest, ReplacesStaleSocketButNotALiveOne) {
  LogTap tap;
  const TempSocketPath temp;
  const std::string path = temp;
  {
    const int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ::close(fd);  // bound, never listening: a stale file
  }
  std::string error;
  auto first = CollectorSocket::start(path, tap, &error);
  ASSERT_NE(first, nullptr) << error;
  auto second = CollectorSocket::start(path, tap, &error);
  EXPECT_EQ(second, nullptr);
  EXPECT_NE(error.find("another collector"), std::string::npos) << error;
}

TEST(CollectorSocketTest, SessionsAndConnectionsAreBounded) {
  LogTap tap;
  const TempSocketPath temp;
  const std::string path = temp;
  CollectorSocketLimits limits;
  limits.max_sessions = 2;
  limits.max_connections_per_session = 3;
  limits.max_connections = 4;
  std::string error;
  auto sock = CollectorSocket::start(path, tap, &error, limits);
  ASSERT_NE(sock, nullptr) << error;
  const int a = connect_to(path);
  ASSERT_GE(a, 0);
  for (std::uint64_t id = 1; id <= 5; ++id) send_record(a, wire::RecordType::kOpen, 0, id, open_payload("h", 1));
  send_record(a, wire::RecordType::kData, 0, 5, "refused connection's data");
  send_record(a, wire::RecordType::kData, 0, 1, "kept");
  ASSERT_TRUE(tap.wait_for(4));
  const int b = connect_to(path);
  ASSERT_GE(b, 0);
  for (std::uint64_t id = 1; id <= 2; ++id) send_record(b, wire::RecordType::kOpen, 0, id, open_payload("g", 2));
  ASSERT_TRUE(tap.wait_for(5));  // one more fits under max_connections
  // A third shim process is over max_sessions: hung up on at once.
  const int c = connect_to(path);
  ASSERT_GE(c, 0);
  char byte;
  EXPECT_LE(recv(c, &byte, 1, 0), 0);
  // Closing one connection makes room for another.
  send_record(a, wire::RecordType::kClose, 0, 1, "");
  send_record(b, wire::RecordType::kOpen, 0, 3, open_payload("g", 2));
  ASSERT_TRUE(tap.wait_for(7));
  {
    std::lock_guard<std::mutex> lock(tap.mu);
    EXPECT_EQ(tap.events, (std::vector<std::string>{"open h", "open h", "open h", "data c kept", "open g", "close",
                                                    "open g"}));
  }
  auto st = sock->stats();
  EXPECT_EQ(st.connections_opened, 5u);
  EXPECT_EQ(st.connections_refused, 3u);  // a's 4th and 5th, b's 2nd
  EXPECT_EQ(st.sessions_refused, 1u);
  ::close(a);
  ::close(b);
  ::close(c);
}

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// At the descriptor limit the collector must wait, not spin on a listening socket it cannot
// accept from. Run in a child: the lowered RLIMIT_NOFILE must not leak into the test process.
TEST(CollectorSocketTest, BacksOffInsteadOfSpinningAtTheDescriptorLimit) {
  const TempSocketPath temp;
  const std::string path = temp;
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    LogTap tap;
    std::string error;
    CollectorSocketLimits limits;
    limits.accept_backoff = std::chrono::milliseconds(50);
    auto sock = CollectorSocket::start(path, tap, &error, limits);
    if (!sock) _exit(10);
    // Use up every descriptor but one, then let one shim connect with it: it waits in the backlog
    // and the collector has no descriptor left to accept it with.
    const int probe = dup(0);
    rlimit lim{static_cast<rlim_t>(probe + 16), static_cast<rlim_t>(probe + 16)};
    ::close(probe);
    if (setrlimit(RLIMIT_NOFILE, &lim) != 0) _exit(11);
    std::vector<int> filler;
    for (int fd; (fd = dup(0)) >= 0;) filler.push_back(fd);
    if (filler.empty()) _exit(12);
    ::close(filler.back());
    filler.pop_back();
    const int client = connect_to(path);
    if (client < 0) _exit(12);
    for (int i = 0; i < 200 && sock->stats().accept_pauses == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (sock->stats().accept_pauses == 0) _exit(13);
    const std::uint64_t pauses0 = sock->stats().accept_pauses;
    const double cpu0 = process_cpu_seconds();
    std::this_thread::sleep_for(std::chrono::seconds(1));
    const double spent = process_cpu_seconds() - cpu0;
    auto st = sock->stats();
    // Every failed accept counts: one per 50 ms pause is at most ~21 in a second, while a loop
    // retrying at once fails thousands of times even on a loaded machine. (A spinning collector
    // also burns up to a second of CPU here; a waiting one a few milliseconds.)
    if (st.accept_pauses - pauses0 > 40 || spent > 0.3) _exit(14);
    // Descriptors come back: the queued shim is served after the pause.
    for (int fd : filler) ::close(fd);
    for (int i = 0; i < 200 && sock->stats().sessions_accepted == st.sessions_accepted; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (sock->stats().sessions_accepted == st.sessions_accepted) _exit(15);
    sock->stop();
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "10 start, 11 setrlimit, 12 no descriptors/client, 13 no pause, 14 spinning, "
                                       "15 no resume";
}

}  // namespace
}  // namespace llmtap
