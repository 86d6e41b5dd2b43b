#include "export/http_client.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>

#include "common/ascii.h"

namespace llmtap::exporting {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kMaxResponse = 64 * 1024;

std::string ssl_error_string() {
  unsigned long e = ERR_get_error();
  if (!e) return "TLS error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

bool is_ip_literal(const std::string& host) {
  unsigned char buf[sizeof(struct in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

// One connection with a deadline on every wait.
class Connection {
 public:
  Connection(Clock::time_point deadline, const std::function<bool()>& cancelled)
      : deadline_(deadline), cancelled_(cancelled) {}
  ~Connection() {
    if (ssl_) {
      SSL_shutdown(ssl_);  // best effort, non-blocking socket
      SSL_free(ssl_);
    }
    if (fd_ >= 0) ::close(fd_);
  }

  bool connect(const ParsedUrl& url, std::string* error) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    std::string port = std::to_string(url.port);
    int rc = ::getaddrinfo(url.host.c_str(), port.c_str(), &hints, &res);
    if (rc != 0) {
      *error = "cannot resolve " + url.host + ": " + gai_strerror(rc);
      return false;
    }
    std::string last = "no address";
    for (addrinfo* ai = res; ai; ai = ai->ai_next) {
      int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
      if (fd < 0) continue;
      int r = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
      if (r != 0 && errno == EINPROGRESS) {
        fd_ = fd;
        if (wait(POLLOUT)) {
          int err = 0;
          socklen_t len = sizeof err;
          ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
          r = err == 0 ? 0 : -1;
          errno = err;
        } else {
          r = -1;
          errno = ETIMEDOUT;
        }
        fd_ = -1;
      }
      if (r == 0) {
        fd_ = fd;
        break;
      }
      last = std::strerror(errno);
      ::close(fd);
    }
    ::freeaddrinfo(res);
    if (fd_ < 0) *error = "cannot connect to " + url.loggable() + ": " + last;
    return fd_ >= 0;
  }

  bool start_tls(SSL_CTX* ctx, const std::string& host, std::string* error) {
    ssl_ = SSL_new(ctx);
    if (!ssl_ || SSL_set_fd(ssl_, fd_) != 1) {
      *error = ssl_error_string();
      return false;
    }
    if (is_ip_literal(host)) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), host.c_str());
    } else {
      SSL_set_tlsext_host_name(ssl_, host.c_str());
      SSL_set1_host(ssl_, host.c_str());
    }
    for (;;) {
      int r = SSL_connect(ssl_);
      if (r == 1) return true;
      int e = SSL_get_error(ssl_, r);
      if ((e == SSL_ERROR_WANT_READ && wait(POLLIN)) || (e == SSL_ERROR_WANT_WRITE && wait(POLLOUT))) continue;
      long verify = SSL_get_verify_result(ssl_);
      *error = verify != X509_V_OK ? std::string("TLS certificate verification failed: ") +
                                         X509_verify_cert_error_string(verify)
                                   : "TLS handshake failed: " + ssl_error_string();
      if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) *error = "TLS handshake timed out";
      return false;
    }
  }

  bool write_all(std::string_view data) {
    while (!data.empty()) {
      long n;
      if (ssl_) {
        n = SSL_write(ssl_, data.data(), static_cast<int>(std::min<std::size_t>(data.size(), 1 << 20)));
        if (n <= 0) {
          int e = SSL_get_error(ssl_, static_cast<int>(n));
          if ((e == SSL_ERROR_WANT_READ && wait(POLLIN)) || (e == SSL_ERROR_WANT_WRITE && wait(POLLOUT))) continue;
          return false;
        }
      } else {
        n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
        if (n < 0) {
          if ((errno == EAGAIN || errno == EINTR) && wait(POLLOUT)) continue;
          return false;
        }
      }
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // >0 bytes, 0 EOF, -1 error/timeout.
  long read_some(char* buf, std::size_t len) {
    for (;;) {
      if (ssl_) {
        int n = SSL_read(ssl_, buf, static_cast<int>(len));
        if (n > 0) return n;
        int e = SSL_get_error(ssl_, n);
        if (e == SSL_ERROR_ZERO_RETURN) return 0;
        if ((e == SSL_ERROR_WANT_READ && wait(POLLIN)) || (e == SSL_ERROR_WANT_WRITE && wait(POLLOUT))) continue;
        return e == SSL_ERROR_SYSCALL ? 0 : -1;
      }
      long n = ::recv(fd_, buf, len, 0);
      if (n >= 0) return n;
      if ((errno == EAGAIN || errno == EINTR) && wait(POLLIN)) continue;
      return -1;
    }
  }

 private:
  bool wait(short events) {
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now()).count();
      if (left <= 0 || (cancelled_ && cancelled_())) return false;
      pollfd p{fd_, events, 0};
      int r = ::poll(&p, 1, static_cast<int>(std::min<long>(left, 100)));
      if (r > 0) return true;
      if (r == 0 || errno == EINTR) continue;
      return false;
    }
  }

  Clock::time_point deadline_;
  const std::function<bool()>& cancelled_;
  int fd_ = -1;
  SSL* ssl_ = nullptr;
};

}  // namespace

std::unique_ptr<HttpClient> HttpClient::create(const std::string& url, const std::string& extra_ca_file,
                                               std::string* error) {
  auto parsed = parse_url(url, error);
  if (!parsed) return nullptr;
  SSL_CTX* ctx = nullptr;
  if (parsed->scheme == "https") {
    ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
      *error = "cannot create TLS context: " + ssl_error_string();
      return nullptr;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_default_verify_paths(ctx);
    if (!extra_ca_file.empty() && SSL_CTX_load_verify_locations(ctx, extra_ca_file.c_str(), nullptr) != 1) {
      *error = "cannot load CA file " + extra_ca_file + ": " + ssl_error_string();
      SSL_CTX_free(ctx);
      return nullptr;
    }
  }
  return std::unique_ptr<HttpClient>(new HttpClient(std::move(*parsed), ctx));
}

HttpClient::~HttpClient() { SSL_CTX_free(ctx_); }

HttpResponse HttpClient::post(const std::vector<std::pair<std::string, std::string>>& headers,
                              std::string_view body, std::chrono::milliseconds timeout,
                              const std::function<bool()>& cancelled) const {
  HttpResponse resp;
  Connection conn(Clock::now() + timeout, cancelled);
  if (!conn.connect(url_, &resp.error)) return resp;
  if (ctx_ && !conn.start_tls(ctx_, url_.host, &resp.error)) return resp;

  std::string host = url_.host.find(':') != std::string::npos ? "[" + url_.host + "]" : url_.host;
  bool default_port = (url_.scheme == "http" && url_.port == 80) || (url_.scheme == "https" && url_.port == 443);
  std::string req = "POST " + url_.target + " HTTP/1.1\r\nHost: " + host +
                    (default_port ? "" : ":" + std::to_string(url_.port)) + "\r\n";
  for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
  req += "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
  if (!conn.write_all(req) || !conn.write_all(body)) {
    resp.error = "sending the request to " + url_.loggable() + " failed or timed out";
    return resp;
  }

  std::string in;
  char buf[16384];
  std::size_t header_end = std::string::npos;
  while (header_end == std::string::npos) {
    long n = conn.read_some(buf, sizeof buf);
    if (n <= 0) {
      resp.error = n == 0 ? "connection closed before a response" : "no response from " + url_.loggable() + " in time";
      return resp;
    }
    in.append(buf, static_cast<std::size_t>(n));
    header_end = in.find("\r\n\r\n");
    if (header_end == std::string::npos && in.size() > kMaxResponse) {
      resp.error = "response headers too large";
      return resp;
    }
  }
  // Status line: HTTP/1.x NNN reason
  if (in.compare(0, 5, "HTTP/") != 0 || in.size() < 12) {
    resp.error = "malformed HTTP response";
    return resp;
  }
  resp.status = std::atoi(in.c_str() + in.find(' ') + 1);
  long content_length = -1;
  std::size_t pos = in.find("\r\n") + 2;
  while (pos < header_end) {
    std::size_t eol = in.find("\r\n", pos);
    std::string line = in.substr(pos, eol - pos);
    pos = eol + 2;
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = ascii_lower(line.substr(0, colon));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.pop_back();
    if (name == "content-length") content_length = std::atol(value.c_str());
    if (name == "retry-after") resp.retry_after = value;
  }
  resp.body = in.substr(header_end + 4);
  while ((content_length < 0 || static_cast<long>(resp.body.size()) < content_length) && resp.body.size() < kMaxResponse) {
    long n = conn.read_some(buf, sizeof buf);
    if (n <= 0) break;  // the status is what matters; a short body is not an error
    resp.body.append(buf, static_cast<std::size_t>(n));
  }
  if (resp.body.size() > kMaxResponse) resp.body.resize(kMaxResponse);
  return resp;
}

std::string gzip_compress(std::string_view data) {
  z_stream zs{};
  if (deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return {};
  std::string out(deflateBound(&zs, data.size()) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::string gzip_decompress(std::string_view data, bool* ok) {
  z_stream zs{};
  *ok = false;
  if (inflateInit2(&zs, 15 + 16) != Z_OK) return {};
  std::string out;
  char buf[16384];
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  int rc;
  do {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) break;
    out.append(buf, sizeof buf - zs.avail_out);
  } while (rc != Z_STREAM_END);
  inflateEnd(&zs);
  *ok = rc == Z_STREAM_END;
  return *ok ? out : std::string();
}

}  // namespace llmtap::exporting
