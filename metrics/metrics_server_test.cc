#include "metrics/metrics_server.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

namespace llmtap::metrics {
namespace {

// One HTTP exchange with ADDRESS ("127.0.0.1:PORT"): sends REQUEST, returns all it reads.
std::string exchange(const std::string& address, const std::string& request) {
  const int port = std::stoi(address.substr(address.rfind(':') + 1));
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<std::uint16_t>(port));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd);
    return "";
  }
  (void)!::write(fd, request.data(), request.size());
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return out;
}

TEST(MetricsServer, ServesTheExpositionAtMetrics) {
  std::string error;
  int scrapes = 0;
  auto server = MetricsServer::start("127.0.0.1:0", false, [&] { return "up " + std::to_string(++scrapes) + "\n"; }, &error);
  ASSERT_TRUE(server) << error;
  std::string r = exchange(server->address(), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << r;
  EXPECT_NE(r.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"), std::string::npos) << r;
  EXPECT_EQ(r.substr(r.size() - 5), "up 1\n");
  r = exchange(server->address(), "GET /other HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 404 Not Found\r\n", 0), 0u) << r;
  r = exchange(server->address(), "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 405 Method Not Allowed\r\n", 0), 0u) << r;
  EXPECT_EQ(scrapes, 1);
}

TEST(MetricsServer, NonLoopbackNeedsTheOptIn) {
  std::string error;
  EXPECT_FALSE(MetricsServer::start("0.0.0.0:0", false, [] { return std::string(); }, &error));
  EXPECT_NE(error.find("--allow-remote"), std::string::npos) << error;
  EXPECT_FALSE(MetricsServer::start("nonsense", false, [] { return std::string(); }, &error));
  EXPECT_NE(error.find("--metrics-listen"), std::string::npos) << error;
}

}  // namespace
}  // namespace llmtap::metrics
