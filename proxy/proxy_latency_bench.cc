// Added latency of the proxy: keep-alive requests to a local upstream, direct versus through llmtap,
// alternating rounds in one run, p50/p99 side by side. Two paths:
//   gateway: plain HTTP client -> llmtap /openai/... -> plain HTTP upstream
//   MITM:    HTTPS client via CONNECT (trusting the llmtap CA) -> llmtap -> HTTPS upstream (verified)
// A benchmark, not a test. Usage: llmtap_proxy_latency_bench [--requests N] [--rounds R]
//                                   [--body-bytes B] [--threads T]
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "proxy/certificate_authority.h"
#include "proxy/http_framing.h"
#include "proxy/proxy_server.h"

namespace net = boost::asio;
using llmtap::proxy::RequestFraming;
using llmtap::proxy::ResponseFraming;
using Clock = std::chrono::steady_clock;

namespace {

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "bench: %s\n", what);
  std::exit(1);
}

// Minimal keep-alive HTTP/1.1 upstream (plain or TLS) answering every request with a fixed JSON body.
class Upstream {
 public:
  Upstream(std::size_t body_bytes, net::ssl::context* tls)
      : tls_(tls), acceptor_(ioc_, {net::ip::make_address("127.0.0.1"), 0}) {
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
  template <class Stream>
  struct Conn : std::enable_shared_from_this<Conn<Stream>> {
    template <class... Args>
    Conn(const std::string& r, Args&&... args) : stream(std::forward<Args>(args)...), response(r) {}
    void read() {
      stream.async_read_some(net::buffer(buf), [self = this->shared_from_this()](boost::system::error_code ec,
                                                                                  std::size_t n) {
        if (ec) return;
        self->pending.append(self->buf.data(), n);
        self->serve();
      });
    }
    void serve() {
      if (!parser) parser.emplace(64 * 1024);
      boost::system::error_code ec;
      std::size_t n = parser->put(net::buffer(pending), ec);
      pending.erase(0, n);
      if (ec && ec != llmtap::proxy::http::error::need_more) return;
      if (!parser->is_done()) return read();
      parser.reset();
      net::async_write(stream, net::buffer(response), [self = this->shared_from_this()](boost::system::error_code ec,
                                                                                         std::size_t) {
        if (ec) return;
        if (!self->pending.empty()) return self->serve();
        self->read();
      });
    }
    Stream stream;
    const std::string& response;
    std::array<char, 16384> buf;
    std::string pending;
    std::optional<RequestFraming> parser;
  };
  void accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, net::ip::tcp::socket s) {
      if (!ec) {
        s.set_option(net::ip::tcp::no_delay(true));
        if (tls_) {
          auto c = std::make_shared<Conn<net::ssl::stream<net::ip::tcp::socket>>>(response_, std::move(s), *tls_);
          c->stream.async_handshake(net::ssl::stream_base::server, [c](boost::system::error_code ec) {
            if (!ec) c->read();
          });
        } else {
          std::make_shared<Conn<net::ip::tcp::socket>>(response_, std::move(s))->read();
        }
      }
      accept();
    });
  }
  net::io_context ioc_;
  net::ssl::context* tls_;
  net::ip::tcp::acceptor acceptor_;
  std::string response_;
  std::thread thread_;
};

// Blocking keep-alive client, optionally TLS (through a CONNECT tunnel when given a proxy).
class Client {
 public:
  // PROXY_AUTH: the Proxy-Authorization value sent with the CONNECT.
  Client(int port, SSL_CTX* tls = nullptr, const char* sni = nullptr, const char* connect_to = nullptr,
         const std::string& proxy_auth = "") {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) die("connect failed");
    if (connect_to) {
      std::string req = std::string("CONNECT ") + connect_to + " HTTP/1.1\r\nHost: " + connect_to +
                        "\r\nProxy-Authorization: " + proxy_auth + "\r\n\r\n";
      raw_send(req);
      std::string reply;
      char c;
      while (reply.find("\r\n\r\n") == std::string::npos && ::recv(fd_, &c, 1, 0) == 1) reply.push_back(c);
      if (reply.rfind("HTTP/1.1 200", 0) != 0) die("CONNECT refused");
    }
    if (tls) {
      ssl_ = SSL_new(tls);
      SSL_set_fd(ssl_, fd_);
      if (sni) {
        SSL_set_tlsext_host_name(ssl_, sni);
        SSL_set1_host(ssl_, sni);
      }
      if (SSL_connect(ssl_) != 1) die("TLS handshake failed");
    }
  }
  ~Client() {
    if (ssl_) SSL_free(ssl_);
    close(fd_);
  }
  double request(const std::string& req) {
    auto t0 = Clock::now();
    raw_send(req);
    ResponseFraming p(1 << 20);
    bool need_bytes = pending_.empty();
    while (!p.is_done()) {
      if (need_bytes) {
        char buf[65536];
        int n = ssl_ ? SSL_read(ssl_, buf, sizeof buf) : static_cast<int>(::recv(fd_, buf, sizeof buf, 0));
        if (n <= 0) die("connection closed mid-response");
        pending_.append(buf, static_cast<std::size_t>(n));
      }
      boost::system::error_code ec;
      std::size_t n = p.put(net::buffer(pending_), ec);
      pending_.erase(0, n);
      if (ec && ec != llmtap::proxy::http::error::need_more) die("bad response");
      need_bytes = pending_.empty() || (ec == llmtap::proxy::http::error::need_more && n == 0);
    }
    if (p.status() != 200) die("non-200 response");
    return std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
  }

 private:
  void raw_send(const std::string& s) {
    int n = ssl_ ? SSL_write(ssl_, s.data(), static_cast<int>(s.size()))
                 : static_cast<int>(::send(fd_, s.data(), s.size(), MSG_NOSIGNAL));
    if (n != static_cast<int>(s.size())) die("send failed");
  }
  int fd_;
  SSL* ssl_ = nullptr;
  std::string pending_;
};

double percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())))];
}

struct Pair {
  const char* name;
  std::vector<double> direct, proxied;
};

void print(const Pair& p) {
  auto row = [](const std::string& name, const std::vector<double>& v) {
    double mean = 0;
    for (double x : v) mean += x;
    std::printf("  %-34s %10.1f %10.1f %10.1f\n", name.c_str(), percentile(v, 0.5), percentile(v, 0.99),
                mean / static_cast<double>(v.size()));
  };
  std::printf("%s\n", p.name);
  row("direct", p.direct);
  row("through llmtap", p.proxied);
  std::printf("  %-34s %10.1f %10.1f\n", "added by llmtap", percentile(p.proxied, 0.5) - percentile(p.direct, 0.5),
              percentile(p.proxied, 0.99) - percentile(p.direct, 0.99));
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
  auto data = std::filesystem::temp_directory_path() / ("llmtap-bench-" + std::to_string(getpid()));
  std::string err;
  // The upstream's certificate, from a throwaway CA the proxy is told to trust.
  auto upstream_ca = llmtap::proxy::CertificateAuthority::load_or_create((data / "upstream-ca").string(), &err);
  if (!upstream_ca) die(err.c_str());
  auto leaf = upstream_ca->leaf_for("127.0.0.1", &err);
  net::ssl::context server_tls(net::ssl::context::tls_server);
  SSL_CTX_use_certificate(server_tls.native_handle(), leaf->cert);
  SSL_CTX_use_PrivateKey(server_tls.native_handle(), leaf->key);

  Upstream plain(body, nullptr), tls(body, &server_tls);
  llmtap::proxy::ProxyOptions o;
  o.listen = "127.0.0.1:0";
  o.data_dir = (data / "llmtap").string();
  o.io_threads = threads;
  o.upstreams = {{"openai", "http://127.0.0.1:" + std::to_string(plain.port())},
                 {"anthropic", "https://127.0.0.1:" + std::to_string(tls.port())}};
  o.upstream_ca_files = {upstream_ca->ca_cert_path()};
  o.credential = "benchcredential";  // clients authenticate as every real client does
  llmtap::proxy::ProxyServer proxy(o, nullptr);
  std::string addr = proxy.start(&err);
  if (addr.empty()) die(err.c_str());
  int proxy_port = std::stoi(addr.substr(addr.rfind(':') + 1));

  SSL_CTX* direct_tls = SSL_CTX_new(TLS_client_method());
  SSL_CTX_load_verify_locations(direct_tls, upstream_ca->ca_cert_path().c_str(), nullptr);
  SSL_CTX_set_verify(direct_tls, SSL_VERIFY_PEER, nullptr);
  SSL_CTX* mitm_tls = SSL_CTX_new(TLS_client_method());
  SSL_CTX_load_verify_locations(mitm_tls, proxy.ca()->ca_cert_path().c_str(), nullptr);
  SSL_CTX_set_verify(mitm_tls, SSL_VERIFY_PEER, nullptr);

  const std::string req_body = "{\"model\":\"claude-sonnet-4\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
  auto make_req = [&](const std::string& path) {
    return "POST " + path + " HTTP/1.1\r\nHost: api.anthropic.com\r\nContent-Type: application/json\r\nContent-Length: " +
           std::to_string(req_body.size()) + "\r\n\r\n" + req_body;
  };
  const std::string req = make_req("/v1/messages"), gateway_req = make_req("/t/benchcredential/openai/v1/messages");

  Client plain_direct(plain.port()), plain_via(proxy_port);
  Client tls_direct(tls.port(), direct_tls, nullptr),
      tls_via(proxy_port, mitm_tls, "api.anthropic.com", "api.anthropic.com:443",
              "Basic bGxtdGFwOmJlbmNoY3JlZGVudGlhbA==" /* llmtap:benchcredential */);
  for (int i = 0; i < 200; ++i) {  // warm up every path (and the proxy's upstream pool)
    plain_direct.request(req);
    plain_via.request(gateway_req);
    tls_direct.request(req);
    tls_via.request(req);
  }
  Pair gw{"gateway route, plain HTTP both sides (p50 / p99 / mean, microseconds)", {}, {}};
  Pair mitm{"HTTPS_PROXY interception, TLS both sides (p50 / p99 / mean, microseconds)", {}, {}};
  for (int r = 0; r < rounds; ++r) {  // alternate so drift on a shared machine hits every path alike
    for (int i = 0; i < requests; ++i) gw.direct.push_back(plain_direct.request(req));
    for (int i = 0; i < requests; ++i) gw.proxied.push_back(plain_via.request(gateway_req));
    for (int i = 0; i < requests; ++i) mitm.direct.push_back(tls_direct.request(req));
    for (int i = 0; i < requests; ++i) mitm.proxied.push_back(tls_via.request(req));
  }
  std::printf("keep-alive POST, %zu-byte JSON response, %d x %d requests per path, proxy io threads %d\n", body,
              rounds, requests, threads);
  print(gw);
  print(mitm);
  proxy.stop();
  SSL_CTX_free(direct_tls);
  SSL_CTX_free(mitm_tls);
  std::filesystem::remove_all(data);
  return 0;
}
