#include "export/otlp_test_receiver.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "common/ascii.h"
#include "export/http_client.h"

namespace llmtap::exporting::testing {
namespace {

// Blocking I/O over a plain fd or TLS.
struct Stream {
  int fd;
  SSL* ssl;
  long read(char* b, std::size_t n) { return ssl ? SSL_read(ssl, b, static_cast<int>(n)) : ::recv(fd, b, n, 0); }
  void write(const std::string& s) {
    if (ssl) SSL_write(ssl, s.data(), static_cast<int>(s.size()));
    else (void)::send(fd, s.data(), s.size(), MSG_NOSIGNAL);
  }
};

}  // namespace

bool OtlpTestReceiver::start(std::uint16_t port, const std::string& cert_file, const std::string& key_file) {
  stop();
  if (!cert_file.empty()) {
    tls_ = SSL_CTX_new(TLS_server_method());
    if (SSL_CTX_use_certificate_file(tls_, cert_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_use_PrivateKey_file(tls_, key_file.c_str(), SSL_FILETYPE_PEM) != 1)
      return false;
  }
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 64) != 0) {
    ::close(listen_fd_);
    listen_fd_ = -1;
    return false;
  }
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  running_ = true;
  thread_ = std::thread([this] { serve(); });
  return true;
}

void OtlpTestReceiver::stop() {
  running_ = false;
  if (thread_.joinable()) thread_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  listen_fd_ = -1;
  SSL_CTX_free(tls_);
  tls_ = nullptr;
}

std::string OtlpTestReceiver::base_url() const {
  return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_);
}

void OtlpTestReceiver::set_handler(Handler h) {
  std::lock_guard lock(mu_);
  handler_ = std::move(h);
}

std::vector<ReceivedRequest> OtlpTestReceiver::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

std::size_t OtlpTestReceiver::count() const {
  std::lock_guard lock(mu_);
  return requests_.size();
}

bool OtlpTestReceiver::wait_until(const std::function<bool()>& pred, std::chrono::seconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

void OtlpTestReceiver::serve() {
  while (running_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    handle(fd);
    ::close(fd);
  }
}

void OtlpTestReceiver::handle(int fd) {
  SSL* ssl = nullptr;
  if (tls_) {
    ssl = SSL_new(tls_);
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) != 1) {
      SSL_free(ssl);
      return;
    }
  }
  Stream s{fd, ssl};
  std::string in;
  char buf[16384];
  std::size_t header_end;
  while ((header_end = in.find("\r\n\r\n")) == std::string::npos) {
    long n = s.read(buf, sizeof buf);
    if (n <= 0) {
      SSL_free(ssl);
      return;
    }
    in.append(buf, static_cast<std::size_t>(n));
  }
  ReceivedRequest req;
  req.at = std::chrono::steady_clock::now();
  std::size_t eol = in.find("\r\n");
  std::string line = in.substr(0, eol);
  req.method = line.substr(0, line.find(' '));
  req.target = line.substr(line.find(' ') + 1, line.rfind(' ') - line.find(' ') - 1);
  std::size_t pos = eol + 2;
  while (pos < header_end) {
    std::size_t e = in.find("\r\n", pos);
    std::string h = in.substr(pos, e - pos);
    pos = e + 2;
    auto colon = h.find(':');
    if (colon == std::string::npos) continue;
    std::string v = h.substr(colon + 1);
    while (!v.empty() && v.front() == ' ') v.erase(0, 1);
    req.headers[ascii_lower(h.substr(0, colon))] = v;
  }
  std::size_t length = std::stoul(req.headers.count("content-length") ? req.headers["content-length"] : "0");
  std::string body = in.substr(header_end + 4);
  while (body.size() < length) {
    long n = s.read(buf, sizeof buf);
    if (n <= 0) break;
    body.append(buf, static_cast<std::size_t>(n));
  }
  if (req.headers["content-encoding"] == "gzip") {
    bool ok;
    body = gzip_decompress(body, &ok);
    if (!ok) body = "<bad gzip>";
  }
  req.body = std::move(body);
  Reply reply;
  {
    std::lock_guard lock(mu_);
    if (handler_) reply = handler_(req, index_);
    ++index_;
    requests_.push_back(req);
  }
  std::string out = "HTTP/1.1 " + std::to_string(reply.status) + " X\r\nContent-Length: " +
                    std::to_string(reply.body.size()) + "\r\nConnection: close\r\n";
  for (const auto& [k, v] : reply.headers) out += k + ": " + v + "\r\n";
  out += "\r\n" + reply.body;
  s.write(out);
  if (ssl) {
    SSL_shutdown(ssl);
    SSL_free(ssl);
  }
}

bool make_self_signed_cert(const std::string& dir, std::string* cert_file, std::string* key_file) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* x = X509_new();
  if (!key || !x) return false;
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 86400);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("llmtap test"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost"},
                            std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    if (!ext) return false;
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (!X509_sign(x, key, EVP_sha256())) return false;
  *cert_file = dir + "/cert.pem";
  *key_file = dir + "/key.pem";
  FILE* c = std::fopen(cert_file->c_str(), "w");
  FILE* k = std::fopen(key_file->c_str(), "w");
  bool ok = c && k && PEM_write_X509(c, x) && PEM_write_PrivateKey(k, key, nullptr, nullptr, 0, nullptr, nullptr);
  if (c) std::fclose(c);
  if (k) std::fclose(k);
  X509_free(x);
  EVP_PKEY_free(key);
  return ok;
}

}  // namespace llmtap::exporting::testing
