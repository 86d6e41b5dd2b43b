#pragma once
// A local OTLP/HTTP receiver for tests: loopback, port 0 (or a given port, to come back after an
// outage on the same address), optional TLS, scripted replies, every request recorded with its
// body decompressed.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

typedef struct ssl_ctx_st SSL_CTX;

namespace llmtap::exporting::testing {

struct ReceivedRequest {
  std::string method, target;
  std::map<std::string, std::string> headers;  // lowercase names
  std::string body;                            // after Content-Encoding
  std::chrono::steady_clock::time_point at;
};

struct Reply {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body = "{}";
};

class OtlpTestReceiver {
 public:
  using Handler = std::function<Reply(const ReceivedRequest&, std::size_t index)>;
  OtlpTestReceiver() = default;
  ~OtlpTestReceiver() { stop(); }

  // Listens on 127.0.0.1:PORT (0: any free port). CERT/KEY PEM files turn on TLS.
  bool start(std::uint16_t port = 0, const std::string& cert_file = "", const std::string& key_file = "");
  void stop();  // closes the listener: connections are refused until start() again
  std::uint16_t port() const { return port_; }
  std::string base_url() const;  // http(s)://127.0.0.1:PORT

  void set_handler(Handler h);
  std::vector<ReceivedRequest> requests() const;
  std::size_t count() const;
  // Polls PRED until true or TIMEOUT (a generous bound, not a timing assertion).
  static bool wait_until(const std::function<bool()>& pred, std::chrono::seconds timeout = std::chrono::seconds(60));

 private:
  void serve();
  void handle(int fd);

  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  SSL_CTX* tls_ = nullptr;
  std::atomic<bool> running_{false};
  std::thread thread_;
  mutable std::mutex mu_;
  Handler handler_;
  std::vector<ReceivedRequest> requests_;
  std::size_t index_ = 0;
};

// Writes a self-signed certificate for 127.0.0.1/localhost and its key into DIR; returns false on
// failure. The certificate is its own CA (pass it as OTEL_EXPORTER_OTLP_CERTIFICATE).
bool make_self_signed_cert(const std::string& dir, std::string* cert_file, std::string* key_file);

}  // namespace llmtap::exporting::testing
