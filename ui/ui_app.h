#pragma once
// What the viewer answers, request by request: the checks every request passes (method, Host
// header against DNS rebinding, access token), the embedded page, the JSON API. Security headers
// (a strict Content-Security-Policy among them) go on every response.
#include <atomic>
#include <functional>
#include <string>

#include "common/clock.h"
#include "ui/http_server.h"
#include "ui/store_handle.h"

namespace llmtap::ui {

inline constexpr const char* kTokenCookie = "llmtap_ui";
inline constexpr const char* kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

class UiApp {
 public:
  // TOKEN: what a request must present (cookie or "Authorization: Bearer"); "" lets any through.
  UiApp(std::string store_path, std::string token, std::function<UnixNanos()> clock = now_ns);
  // The port the server bound: Host headers must name it.
  void set_port(unsigned short port) { port_ = port; }
  HttpResponse handle(const HttpRequest& request);

 private:
  bool host_allowed(std::string_view host) const;
  bool authorized(const HttpRequest& request) const;

  StoreHandle store_;
  const std::string token_;
  std::function<UnixNanos()> clock_;
  std::atomic<unsigned short> port_{0};
};

}  // namespace llmtap::ui
