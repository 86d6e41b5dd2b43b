// The upgraded-connection relay at the byte level, through an in-process ProxyServer (gateway route)
// to a raw loopback upstream that answers 101: bytes that arrive with either header, half-close both
// ways, the idle and lifetime limits, server stop, and the Tap's copy of both directions.
#include <gtest/gtest.h>

#include <stdlib.h>

#include "proxy/certificate_authority.h"
#include "proxy/proxy_server.h"
#include "tests/proxy/test_support.h"

namespace llmtap {
namespace {

using test::RawClient;
using test::RecordingTap;
using namespace std::chrono_literals;

#define UPGRADE_REQUEST_AFTER_PATH                                                                \
  " HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"                          \
  "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
// What the client sends (its gateway URL carries the proxy credential, as a user's base URL does) and
// what the Tap records of it: the same bytes minus the /t/CREDENTIAL segment.
constexpr std::string_view kUpgradeRequest = "GET " TEST_GW "/openai/v1/ws" UPGRADE_REQUEST_AFTER_PATH;
constexpr std::string_view kTappedUpgradeRequest = "GET /openai/v1/ws" UPGRADE_REQUEST_AFTER_PATH;
#undef UPGRADE_REQUEST_AFTER_PATH
constexpr std::string_view k101 =
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";

// A loopback listener; accept() hands one upstream connection to the test, which drives it by hand.
class RawUpstream {
 public:
  RawUpstream() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    listen(fd_, 8);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~RawUpstream() { close(fd_); }
  int port() const { return port_; }
  // The next connection, with a 10 s receive timeout (-1 when none came within 10 s).
  int accept_one() {
    timeval tv{10, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int c = accept(fd_, nullptr, nullptr);
    if (c >= 0) setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return c;
  }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// Reads from FD until OUT holds at least N bytes or EOF/timeout.
void recv_at_least(int fd, std::size_t n, std::string* out) {
  char buf[65536];
  while (out->size() < n) {
    ssize_t r = ::recv(fd, buf, sizeof buf, 0);
    if (r <= 0) return;
    out->append(buf, static_cast<std::size_t>(r));
  }
}
// Reads from FD until OUT holds a whole header block ("\r\n\r\n") or EOF/timeout.
void recv_header(int fd, std::string* out) {
  char buf[65536];
  while (out->find("\r\n\r\n") == std::string::npos) {
    ssize_t r = ::recv(fd, buf, sizeof buf, 0);
    if (r <= 0) return;
    out->append(buf, static_cast<std::size_t>(r));
  }
}
bool send_all(int fd, std::string_view d) {
  while (!d.empty()) {
    ssize_t n = ::send(fd, d.data(), d.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    d.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}
bool at_eof(int fd) {
  char b;
  return ::recv(fd, &b, 1, 0) == 0;
}

class UpgradedRelay : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/llmtap-relay-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
    std::string err;
    ca_ = proxy::CertificateAuthority::load_or_create(dir_, &err);
    ASSERT_TRUE(ca_) << err;
  }
  static void TearDownTestSuite() {
    ca_.reset();
    std::system(("rm -rf '" + dir_ + "'").c_str());
  }

  void start(std::chrono::milliseconds idle = 300s, std::chrono::milliseconds lifetime = 24h) {
    proxy::ProxyOptions o;
    o.listen = "127.0.0.1:0";
    o.ca = ca_;
    o.credential = TEST_CREDENTIAL;
    o.upstreams = {{"openai", "http://127.0.0.1:" + std::to_string(up_.port())}};
    o.idle_timeout = idle;
    o.upgrade_max_lifetime = lifetime;
    o.io_threads = 1;
    server_ = std::make_unique<proxy::ProxyServer>(o, &tap_);
    std::string err, addr = server_->start(&err);
    ASSERT_FALSE(addr.empty()) << err;
    port_ = std::stoi(addr.substr(addr.rfind(':') + 1));
  }
  void TearDown() override {
    if (server_) server_->stop();
  }
  // The Tap's record of the relayed connection, once closed (false if it did not close within 10 s).
  bool tapped(RecordingTap::Conn* out) { return tap_.wait_closed("GET /openai/v1/ws", out); }

  // Upgrades CLIENT: sends the request followed by EXTRA_C in one write; the upstream answers 101
  // followed by EXTRA_S in one write. Returns the upstream fd (-1 on failure). EXTRA_C reaches the
  // upstream only after its 101: until then those bytes may as well be the next HTTP request (had the
  // upstream refused the upgrade), so llmtap holds them as it holds any pipelined request.
  int upgrade(RawClient& client, std::string_view extra_c, std::string_view extra_s) {
    EXPECT_TRUE(client.send(std::string(kUpgradeRequest) + std::string(extra_c)));
    int u = up_.accept_one();
    if (u < 0) return -1;
    std::string got;
    recv_header(u, &got);
    auto end = got.find("\r\n\r\n");
    EXPECT_NE(end, std::string::npos);
    std::string head = got.substr(0, end + 4);
    EXPECT_NE(head.find("\r\nConnection: Upgrade\r\n"), std::string::npos) << head;
    EXPECT_NE(head.find("\r\nUpgrade: websocket\r\n"), std::string::npos) << head;
    EXPECT_EQ(got.substr(end + 4), "");  // held back until the 101
    EXPECT_TRUE(send_all(u, std::string(k101) + std::string(extra_s)));
    std::string after;
    recv_at_least(u, extra_c.size(), &after);
    EXPECT_EQ(after, extra_c);  // then forwarded exactly
    std::string r;
    recv_at_least(client.fd(), k101.size() + extra_s.size(), &r);
    EXPECT_EQ(r, std::string(k101) + std::string(extra_s));
    return u;
  }

  RawUpstream up_;
  RecordingTap tap_;
  std::unique_ptr<proxy::ProxyServer> server_;
  int port_ = 0;
  static inline std::string dir_;
  static inline std::shared_ptr<proxy::CertificateAuthority> ca_;
};

TEST_F(UpgradedRelay, BytesAfterEitherHeaderAndHalfCloseBothWays) {
  start();
  RawClient c(port_);
  std::string c1("\x81\x85\x01\x02\x03\x04hello", 11), s1("\x81\x02hi", 4);
  int u = upgrade(c, c1, s1);
  ASSERT_GE(u, 0);
  // Full duplex, each write forwarded as it comes.
  std::string big(300 * 1024, 'x');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 131 + (i >> 9));
  std::thread writer([&] { send_all(u, big); });
  ASSERT_TRUE(c.send("ping-from-client"));
  std::string at_up;
  recv_at_least(u, 16, &at_up);
  EXPECT_EQ(at_up, "ping-from-client");
  std::string at_client;
  recv_at_least(c.fd(), big.size(), &at_client);
  writer.join();
  EXPECT_TRUE(at_client == big);
  // The client half-closes: the upstream sees EOF and may still answer, which reaches the client.
  ::shutdown(c.fd(), SHUT_WR);
  EXPECT_TRUE(at_eof(u));
  ASSERT_TRUE(send_all(u, "after-client-eof"));
  std::string tail;
  recv_at_least(c.fd(), 16, &tail);
  EXPECT_EQ(tail, "after-client-eof");
  ::shutdown(u, SHUT_WR);
  EXPECT_TRUE(at_eof(c.fd()));
  close(u);
  // The Tap got both directions in full, and the connection closed.
  RecordingTap::Conn t;
  ASSERT_TRUE(tapped(&t));
  EXPECT_EQ(t.c2s, std::string(kTappedUpgradeRequest) + c1 + "ping-from-client");
  EXPECT_TRUE(t.s2c == std::string(k101) + s1 + big + "after-client-eof");
}

TEST_F(UpgradedRelay, UpstreamHalfCloseReachesTheClient) {
  start();
  RawClient c(port_);
  int u = upgrade(c, "", "");
  ASSERT_GE(u, 0);
  ::shutdown(u, SHUT_WR);
  EXPECT_TRUE(at_eof(c.fd()));
  ASSERT_TRUE(c.send("still-talking"));  // the other direction stays open
  std::string got;
  recv_at_least(u, 13, &got);
  EXPECT_EQ(got, "still-talking");
  ::shutdown(c.fd(), SHUT_WR);
  EXPECT_TRUE(at_eof(u));
  close(u);
}

TEST_F(UpgradedRelay, IdleConnectionIsClosedAndTrafficEitherWayKeepsItOpen) {
  start(1000ms);
  RawClient c(port_);
  int u = upgrade(c, "", "");
  ASSERT_GE(u, 0);
  // 2.5 s of traffic in one direction only (upstream -> client), 100 ms apart: not idle.
  for (int i = 0; i < 25; ++i) {
    ASSERT_TRUE(send_all(u, "tick"));
    std::string got;
    recv_at_least(c.fd(), 4, &got);
    ASSERT_EQ(got, "tick") << "closed while traffic flowed, at tick " << i;
    std::this_thread::sleep_for(100ms);
  }
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(at_eof(c.fd()));
  EXPECT_TRUE(at_eof(u));
  auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(waited, 500ms);
  EXPECT_LT(waited, 6s);  // idle 1 s, plus the close linger at most
  close(u);
}

TEST_F(UpgradedRelay, LifetimeLimitClosesABusyConnection) {
  start(300s, 1000ms);
  RawClient c(port_);
  int u = upgrade(c, "", "");
  ASSERT_GE(u, 0);
  auto t0 = std::chrono::steady_clock::now();
  bool open = true;
  while (open && std::chrono::steady_clock::now() - t0 < 8s) {
    open = c.send("busy");
    std::string got;
    recv_at_least(u, 4, &got);
    open = open && got == "busy";
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_FALSE(open);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  close(u);
}

TEST_F(UpgradedRelay, ServerStopClosesOpenRelays) {
  start();
  RawClient c(port_);
  int u = upgrade(c, "", "");
  ASSERT_GE(u, 0);
  auto t0 = std::chrono::steady_clock::now();
  std::thread stopper([&] { server_->stop(); });
  EXPECT_TRUE(at_eof(c.fd()));  // half-closed by llmtap at once
  EXPECT_TRUE(at_eof(u));
  close(u);  // the upstream closes; the client keeps its end open: the linger bounds the wait
  stopper.join();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  RecordingTap::Conn t;
  EXPECT_TRUE(tapped(&t));
}

TEST_F(UpgradedRelay, UnrequestedSwitchingProtocolsIsNotRelayed) {
  start();
  RawClient c(port_);
  ASSERT_TRUE(c.send("GET " TEST_GW "/openai/v1/x HTTP/1.1\r\nHost: x\r\n\r\n"));
  int u = up_.accept_one();
  ASSERT_GE(u, 0);
  std::string got;
  recv_at_least(u, 10, &got);
  ASSERT_TRUE(send_all(u, std::string(k101) + "junk"));
  std::string r;
  recv_at_least(c.fd(), k101.size(), &r);
  EXPECT_EQ(r.substr(0, k101.size()), k101);
  EXPECT_TRUE(at_eof(c.fd()));  // no Upgrade asked: the connection ends after the 101, as before
  close(u);
}

}  // namespace
}  // namespace llmtap
