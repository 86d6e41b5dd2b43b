#pragma once
// A small blocking HTTP/1.1 POST client for the exporter thread: one connection per request
// (Connection: close), every step bounded by a deadline, TLS verified against the system store
// plus an optional extra CA, with the hostname checked.
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "export/otlp_config.h"

typedef struct ssl_ctx_st SSL_CTX;

namespace llmtap::exporting {

struct HttpResponse {
  int status = 0;           // 0: no HTTP response (connect/TLS/timeout error, see error)
  std::string error;        // transport error, safe to log
  std::string retry_after;  // Retry-After header, raw
  std::string body;         // first 64 KiB
};

class HttpClient {
 public:
  // nullptr and *error when the URL is invalid or the TLS context cannot be set up.
  static std::unique_ptr<HttpClient> create(const std::string& url, const std::string& extra_ca_file,
                                            std::string* error);
  ~HttpClient();

  // CANCELLED, if given, is polled at least every 100 ms: true aborts the request (shutdown must
  // not wait for a hanging endpoint).
  HttpResponse post(const std::vector<std::pair<std::string, std::string>>& headers, std::string_view body,
                    std::chrono::milliseconds timeout, const std::function<bool()>& cancelled = nullptr) const;
  const ParsedUrl& url() const { return url_; }

 private:
  HttpClient(ParsedUrl url, SSL_CTX* ctx) : url_(std::move(url)), ctx_(ctx) {}
  ParsedUrl url_;
  SSL_CTX* ctx_;  // null for http://
};

// gzip (RFC 1952) of DATA.
std::string gzip_compress(std::string_view data);
// Inverse, for tests and receivers; "" plus ok=false on malformed input.
std::string gzip_decompress(std::string_view data, bool* ok);

}  // namespace llmtap::exporting
