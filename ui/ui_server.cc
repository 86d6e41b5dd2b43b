#include "ui/ui_server.h"

#include <openssl/rand.h>

#include "ui/ui_app.h"

namespace llmtap::ui {

struct UiServer::Parts {
  std::unique_ptr<UiApp> app;
  std::unique_ptr<HttpServer> http;
};

namespace {

std::string random_token(std::string* error) {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    *error = "cannot make an access token: the system's random source failed";
    return "";
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) out += kHex[b >> 4], out += kHex[b & 15];
  return out;
}

}  // namespace

std::unique_ptr<UiServer> UiServer::start(const UiOptions& options, std::string* error) {
  std::string token;
  if (options.require_token && (token = random_token(error)).empty()) return nullptr;
  auto parts = std::make_unique<Parts>();
  parts->app = std::make_unique<UiApp>(options.store_path, token);
  HttpServerOptions http = options.http;
  http.listen = options.listen;
  UiApp* app = parts->app.get();
  parts->http = std::make_unique<HttpServer>(http, [app](const HttpRequest& r) { return app->handle(r); });
  // Port 0 is resolved by bind; the Host check must know the real one before any request arrives,
  // and none can arrive before the port is known to the client.
  if (parts->http->start(error).empty()) return nullptr;
  app->set_port(parts->http->port());
  return std::unique_ptr<UiServer>(new UiServer(std::move(parts), std::move(token)));
}

UiServer::UiServer(std::unique_ptr<Parts> parts, std::string token) : parts_(std::move(parts)), token_(std::move(token)) {}
UiServer::~UiServer() { stop(); }
void UiServer::stop() { parts_->http->stop(); }
std::string UiServer::address() const { return parts_->http->address(); }

std::string UiServer::url() const {
  return "http://" + address() + "/" + (token_.empty() ? "" : "?token=" + token_);
}

}  // namespace llmtap::ui
