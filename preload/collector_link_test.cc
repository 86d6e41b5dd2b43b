// The shim sends plaintext only to a collector of its own user: checked on the socket file (lstat)
// and on the process serving it (SO_PEERCRED). Otherwise it captures nothing and says so once.
#include "preload/collector_link.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "common/test_run_as.h"

namespace llmtap::preload {
namespace {

int listen_at(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, 16) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Everything written to stderr while alive.
class StderrCapture {
 public:
  explicit StderrCapture(const std::string& file) : file_(file) {
    saved_ = dup(STDERR_FILENO);
    int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    dup2(fd, STDERR_FILENO);
    ::close(fd);
  }
  ~StderrCapture() { restore(); }
  std::string text() {
    restore();
    std::ifstream in(file_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

 private:
  void restore() {
    if (saved_ < 0) return;
    dup2(saved_, STDERR_FILENO);
    ::close(saved_);
    saved_ = -1;
  }
  std::string file_;
  int saved_ = -1;
};

int count(const std::string& text, const std::string& what) {
  int n = 0;
  for (auto p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

class CollectorLinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/llmtap-link-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
    path_ = dir_ + "/collector.sock";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_, path_;
};

TEST_F(CollectorLinkTest, ConnectsToItsOwnUsersCollector) {
  int lfd = listen_at(path_);
  ASSERT_GE(lfd, 0);
  CollectorLink link(path_);
  EXPECT_TRUE(link.ensure_connected());
  ::close(lfd);
}

TEST_F(CollectorLinkTest, ASocketFileOfAnotherUserGetsNothing) {
  if (!testing::running_as_root()) GTEST_SKIP() << "needs root to chown";
  int lfd = listen_at(path_);
  ASSERT_GE(lfd, 0);
  ASSERT_EQ(::chown(path_.c_str(), testing::kOtherUid, testing::kOtherUid), 0);
  StderrCapture err(dir_ + "/stderr");
  {
    CollectorLink link(path_);
    EXPECT_FALSE(link.ensure_connected());
    std::this_thread::sleep_for(std::chrono::nanoseconds(CollectorLink::kReconnectIntervalNs) * 3 / 2);
    EXPECT_FALSE(link.ensure_connected());  // for good: no second attempt, no second message
    EXPECT_FALSE(link.send(wire::RecordType::kData, 0, 1, 0, "x", 1));
  }
  std::string text = err.text();
  EXPECT_EQ(count(text, "llmtap preload: not capturing"), 1) << text;
  EXPECT_NE(text.find("owned by another user (uid 65534"), std::string::npos) << text;
  // Nothing reached the listener: no connection is waiting to be accepted.
  int flags = fcntl(lfd, F_GETFL);
  fcntl(lfd, F_SETFL, flags | O_NONBLOCK);
  EXPECT_LT(accept(lfd, nullptr, nullptr), 0);
  ::close(lfd);
}

// The file is ours, but the process answering on it is not (it was swapped after the check, or
// the listener changed user): SO_PEERCRED catches it.
TEST_F(CollectorLinkTest, ACollectorProcessOfAnotherUserGetsNothing) {
  if (!testing::running_as_root()) GTEST_SKIP() << "needs root to switch users";
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof(addr.sun_path) - 1);
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) _exit(1);  // file owned by root
    if (setresgid(testing::kOtherUid, testing::kOtherUid, testing::kOtherUid) != 0 ||
        setresuid(testing::kOtherUid, testing::kOtherUid, testing::kOtherUid) != 0)
      _exit(2);
    if (listen(fd, 16) != 0) _exit(3);  // peer credentials are taken here
    char c = 1;
    if (write(ready[1], &c, 1) != 1) _exit(4);
    pause();
    _exit(0);
  }
  ::close(ready[1]);
  char c = 0;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  ::close(ready[0]);
  StderrCapture err(dir_ + "/stderr");
  {
    CollectorLink link(path_);
    EXPECT_FALSE(link.ensure_connected());
  }
  std::string text = err.text();
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  EXPECT_EQ(count(text, "llmtap preload: not capturing"), 1) << text;
  EXPECT_NE(text.find("served by a process of another user (uid 65534"), std::string::npos) << text;
}

TEST_F(CollectorLinkTest, NoCollectorYetIsRetriedQuietly) {
  StderrCapture err(dir_ + "/stderr");
  CollectorLink link(path_);
  EXPECT_FALSE(link.ensure_connected());
  int lfd = listen_at(path_);
  ASSERT_GE(lfd, 0);
  std::this_thread::sleep_for(std::chrono::nanoseconds(CollectorLink::kReconnectIntervalNs) * 3 / 2);
  EXPECT_TRUE(link.ensure_connected());
  EXPECT_EQ(err.text(), "");
  ::close(lfd);
}

}  // namespace
}  // namespace llmtap::preload
