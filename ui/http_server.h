#pragma once
// A small HTTP/1.1 server for the local viewer (Boost.Beast): one session per connection, a timeout
// on every read and write, bounded request sizes, keep-alive. What a request means is the
// handler's business (ui_app.h); this file only moves bytes.
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include <boost/beast/http.hpp>

namespace llmtap::ui {

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;
using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;
// Runs on an io thread; must not throw.
using HttpHandler = std::function<HttpResponse(const HttpRequest& request)>;

struct HttpServerOptions {
  std::string listen = "127.0.0.1:0";  // host:port; port 0 picks a free one
  bool allow_remote = false;           // a non-loopback address is refused unless set
  int io_threads = 2;
  std::chrono::milliseconds read_timeout{10000};    // a whole request, once its first byte arrived
  std::chrono::milliseconds write_timeout{30000};   // a whole response
  std::chrono::milliseconds idle_timeout{60000};    // keep-alive between requests
  std::size_t max_header_bytes = 16 * 1024;         // larger get 431
  std::size_t max_body_bytes = 4 * 1024;            // the API takes no bodies; larger get 413
};

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, HttpHandler handler);
  ~HttpServer();  // stops
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts the io threads. The bound "host:port", or "" and *error.
  std::string start(std::string* error);
  void stop();  // closes every connection and joins the threads; idempotent
  std::string address() const;
  unsigned short port() const;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace llmtap::ui
