#include "collector/collector_socket.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <string>
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

}  // namespace
}  // namespace llmtap
