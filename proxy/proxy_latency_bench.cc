// Added latency of the proxy: keep-alive requests to a local upstream, direct versus through llmtap's
// gateway route, alternating rounds in one run, p50/p99 side by side. A benchmark, not a test.
//
// Usage: llmtap_proxy_latency_bench [--requests N] [--rounds R] [--body-bytes B] [--threads T]
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "proxy/http_framing.h"
#include "proxy/proxy_server.h"

namespace net = boost::asio;
using llmtap::proxy::RequestFraming;
using llmtap::proxy::ResponseFraming;
using Clock = std::chrono::steady_clock;

namespace {

// Minimal keep-alive HTTP/1.1 upstream answering every request with a fixed JSON body.
class Upstream {
 public:
  explicit Upstream(std::size_t body_bytes) : acceptor_(ioc_, {net::ip::make_address("127.0.0.1"), 0}) {
    std::string body = "{\"id\":\"bench\",\"pad\":\"" + std::string(body_bytes, 'x') + "\"}";
    response_ = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                std::to_string(body.size()) + "\r\n\r\n" + body;
    accept();
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~Upstream() {
    ioc_.stop();
    thread_.join();
  }
  int port() const { return acceptor_.local_endpoint().port(); }

 private:
  struct Conn : std::enable_shared_from_this<Conn> {
    Conn(net::ip::tcp::socket s, const std::string& r) : sock(std::move(s)), response(r) {
      sock.set_option(net::ip::tcp::no_delay(true));
    }
    void read() {
      sock.async_read_some(net::buffer(buf), [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
        if (ec) return;
        self->pending.append(self->buf.data(), n);
        self->serve();
      });
    }
    void serve() {
      if (!parser) {
        parser.emplace(64 * 1024);
      }
      boost::system::error_code ec;
      std::size_t n = parser->put(net::buffer(pending), ec);
      pending.erase(0, n);
      if (ec && ec != llmtap::proxy::http::error::need_more) return;
      if (!parser->is_done()) return read();
      parser.reset();
      net::async_write(sock, net::buffer(response), [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
        if (ec) return;
        if (!self->pending.empty()) return self->serve();
        self->read();
      });
    }
    net::ip::tcp::socket sock;
    const std::string& response;
    std::array<char, 16384> buf;
    std::string pending;
    std::optional<RequestFraming> parser;
  };
  void accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, net::ip::tcp::socket s) {
      if (!ec) std::make_shared<Conn>(std::move(s), response_)->read();
      accept();
    });
  }
  net::io_context ioc_;
  net::ip::tcp::acceptor acceptor_;
  std::string response_;
  std::thread thread_;
};

// Blocking keep-alive client; returns per-request latencies in microseconds.
class Client {
 public:
  explicit Client(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      std::perror("connect");
      std::exit(1);
    }
  }
  ~Client() { close(fd_); }
  double request(const std::string& req) {
    auto t0 = Clock::now();
    if (::send(fd_, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) std::exit(1);
    ResponseFraming p(1 << 20);
    bool need_bytes = pending_.empty();
    while (!p.is_done()) {
      if (need_bytes) {
        char buf[65536];
        ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n <= 0) {
          std::fprintf(stderr, "connection closed mid-response\n");
          std::exit(1);
        }
        pending_.append(buf, static_cast<std::size_t>(n));
      }
      boost::system::error_code ec;
      std::size_t n = p.put(net::buffer(pending_), ec);
      pending_.erase(0, n);
      if (ec && ec != llmtap::proxy::http::error::need_more) {
        std::fprintf(stderr, "bad response: %s\n", ec.message().c_str());
        std::exit(1);
      }
      need_bytes = pending_.empty() || (ec == llmtap::proxy::http::error::need_more && n == 0);
    }
    if (p.status() != 200) {
      std::fprintf(stderr, "status %d\n", p.status());
      std::exit(1);
    }
    return std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
  }

 private:
  int fd_;
  std::string pending_;
};

double percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  int requests = 2000, rounds = 5, threads = 2;
  std::size_t body = 1024;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--requests") requests = std::atoi(argv[i + 1]);
    else if (a == "--rounds") rounds = std::atoi(argv[i + 1]);
    else if (a == "--body-bytes") body = static_cast<std::size_t>(std::atol(argv[i + 1]));
    else if (a == "--threads") threads = std::atoi(argv[i + 1]);
  }

  Upstream upstream(body);
  auto data = std::filesystem::temp_directory_path() / ("llmtap-bench-" + std::to_string(getpid()));
  llmtap::proxy::ProxyOptions o;
  o.listen = "127.0.0.1:0";
  o.data_dir = data.string();
  o.io_threads = threads;
  o.upstreams = {{"openai", "http://127.0.0.1:" + std::to_string(upstream.port())}};
  llmtap::proxy::ProxyServer proxy(o, nullptr);
  std::string err, addr = proxy.start(&err);
  if (addr.empty()) {
    std::fprintf(stderr, "proxy: %s\n", err.c_str());
    return 1;
  }
  int proxy_port = std::stoi(addr.substr(addr.rfind(':') + 1));
  const std::string req_body = "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
  auto make_req = [&](const std::string& path) {
    return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: " +
           std::to_string(req_body.size()) + "\r\n\r\n" + req_body;
  };
  const std::string direct_req = make_req("/v1/chat/completions");
  const std::string proxy_req = make_req("/openai/v1/chat/completions");

  Client direct(upstream.port()), via(proxy_port);
  for (int i = 0; i < 200; ++i) {  // warm up both paths (and the proxy's upstream pool)
    direct.request(direct_req);
    via.request(proxy_req);
  }
  std::vector<double> d, p;
  for (int r = 0; r < rounds; ++r) {  // alternate so drift on a shared machine hits both alike
    for (int i = 0; i < requests; ++i) d.push_back(direct.request(direct_req));
    for (int i = 0; i < requests; ++i) p.push_back(via.request(proxy_req));
  }
  std::printf("keep-alive POST, %zu-byte JSON response, %d x %d requests per path, proxy io threads %d\n", body,
              rounds, requests, threads);
  std::printf("%-28s %10s %10s %10s\n", "path", "p50 (us)", "p99 (us)", "mean (us)");
  auto row = [](const char* name, const std::vector<double>& v) {
    double mean = 0;
    for (double x : v) mean += x;
    std::printf("%-28s %10.1f %10.1f %10.1f\n", name, percentile(v, 0.5), percentile(v, 0.99),
                mean / static_cast<double>(v.size()));
  };
  row("direct", d);
  row("through llmtap (gateway)", p);
  std::printf("%-28s %10.1f %10.1f\n", "added by llmtap", percentile(p, 0.5) - percentile(d, 0.5),
              percentile(p, 0.99) - percentile(d, 0.99));
  proxy.stop();
  std::filesystem::remove_all(data);
  return 0;
}
