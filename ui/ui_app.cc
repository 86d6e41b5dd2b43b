#include "ui/ui_app.h"

#include <openssl/crypto.h>

#include "export/span_json.h"
#include "ui/api_router.h"
#include "ui/static_assets.h"

namespace llmtap::ui {
namespace {

namespace http = boost::beast::http;

HttpResponse respond(const HttpRequest& req, http::status status, std::string_view type, std::string body) {
  HttpResponse res{status, req.version()};
  res.set(http::field::content_type, type);
  res.set("Content-Security-Policy", kContentSecurityPolicy);
  res.set("X-Content-Type-Options", "nosniff");
  res.set("X-Frame-Options", "DENY");
  res.set("Referrer-Policy", "no-referrer");  // the first URL carries the token
  res.set("Cross-Origin-Opener-Policy", "same-origin");
  res.set("Cross-Origin-Resource-Policy", "same-origin");
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(req.keep_alive());
  const std::size_t length = body.size();
  if (req.method() != http::verb::head) res.body() = std::move(body);
  res.content_length(length);
  return res;
}

HttpResponse json_response(const HttpRequest& req, int status, const nlohmann::json& body) {
  return respond(req, static_cast<http::status>(status), "application/json",
                 exporting::dump_json(body, 1) + "\n");
}

HttpResponse json_error(const HttpRequest& req, int status, const std::string& message) {
  return json_response(req, status, {{"error", {{"status", status}, {"message", message}}}});
}

// The value of cookie NAME in a Cookie header, "" if absent.
std::string_view cookie(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    auto semi = header.find(';');
    std::string_view item = header.substr(0, semi);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    if (item.size() > name.size() && item.substr(0, name.size()) == name && item[name.size()] == '=')
      return item.substr(name.size() + 1);
    if (semi == std::string_view::npos) break;
    header.remove_prefix(semi + 1);
  }
  return {};
}

bool same_secret(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

UiApp::UiApp(std::string store_path, std::string token, std::function<UnixNanos()> clock)
    : store_(std::move(store_path)), token_(std::move(token)), clock_(std::move(clock)) {}

bool UiApp::host_allowed(std::string_view host) const {
  // Only loopback names with our port: a page on another site that rebinds its own name to
  // 127.0.0.1 sends that name, and is refused.
  const std::string port = ":" + std::to_string(port_.load());
  for (const char* name : {"127.0.0.1", "localhost", "[::1]"})
    if (host == std::string(name) + port) return true;
  return false;
}

bool UiApp::authorized(const HttpRequest& req) const {
  if (token_.empty()) return true;
  if (auto it = req.find(http::field::authorization); it != req.end()) {
    std::string_view v = it->value();
    if (v.substr(0, 7) == "Bearer " && same_secret(v.substr(7), token_)) return true;
  }
  if (auto it = req.find(http::field::cookie); it != req.end())
    return same_secret(cookie(it->value(), kTokenCookie), token_);
  return false;
}

HttpResponse UiApp::handle(const HttpRequest& req) {
  if (req.method() != http::verb::get && req.method() != http::verb::head) {
    auto res = json_error(req, 405, "the viewer only answers GET and HEAD");
    res.set(http::field::allow, "GET, HEAD");
    return res;
  }
  if (!host_allowed(req[http::field::host]))
    return json_error(req, 403, "Host header '" + std::string(req[http::field::host]) +
                                    "' is not this viewer's loopback address (DNS rebinding protection)");
  std::string error;
  auto params = ApiParams::parse(req.target(), &error);
  if (!params) return json_error(req, 400, error);
  const auto& seg = params->segments();

  // The printed URL carries the token once: it becomes a cookie, and the address bar loses it.
  if (!token_.empty() && seg.empty() && params->has("token")) {
    if (!same_secret(params->text("token"), token_))
      return json_error(req, 401, "wrong token: open the URL `llmtap ui` printed (each start makes a new one)");
    auto res = respond(req, http::status::see_other, "text/plain; charset=utf-8", "");
    res.set(http::field::location, "/");
    res.set(http::field::set_cookie, std::string(kTokenCookie) + "=" + token_ + "; Path=/; HttpOnly; SameSite=Strict");
    return res;
  }
  if (!authorized(req))
    return json_error(req, 401,
                      "open the URL `llmtap ui` printed (it carries this run's access token), or send "
                      "Authorization: Bearer TOKEN");

  if (!seg.empty() && seg[0] == "api") {
    ApiResult r = route_api({*params, store_, clock_()});
    return json_response(req, r.status, r.body);
  }
  std::string path;
  for (const auto& s : seg) path += "/" + s;
  if (const StaticAsset* asset = find_asset(path.empty() ? "/" : path))
    return respond(req, http::status::ok, asset->content_type, std::string(asset->body));
  return json_error(req, 404, "no such page: the viewer is at /");
}

}  // namespace llmtap::ui
