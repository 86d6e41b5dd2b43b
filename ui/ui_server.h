#pragma once
// The local web viewer (`llmtap ui`, `llmtap proxy --ui`): HttpServer + UiApp over the store in a
// data directory, loopback only, with a fresh access token per start.
#include <memory>
#include <string>

#include "ui/http_server.h"

namespace llmtap::ui {

inline constexpr const char* kDefaultUiListen = "127.0.0.1:8377";

struct UiOptions {
  std::string listen = kDefaultUiListen;  // loopback host:port; port 0 picks a free one
  std::string store_path;                 // <data dir>/traces.db (need not exist yet)
  bool require_token = true;              // false: any local process may read the traces
  HttpServerOptions http;                 // timeouts and limits (its listen is replaced by LISTEN)
};

class UiServer {
 public:
  static std::unique_ptr<UiServer> start(const UiOptions& options, std::string* error);
  ~UiServer();
  void stop();
  std::string address() const;  // "127.0.0.1:PORT"
  const std::string& token() const { return token_; }
  // http://127.0.0.1:PORT/?token=... (opening it sets the cookie); without a token: http://ADDR/
  std::string url() const;

  struct Parts;

 private:
  explicit UiServer(std::unique_ptr<Parts> parts, std::string token);
  std::unique_ptr<Parts> parts_;
  std::string token_;
};

}  // namespace llmtap::ui
