#include "ui/http_server.h"

#include <atomic>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <spdlog/spdlog.h>

namespace llmtap::ui {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

HttpResponse plain_error(http::status status, unsigned version, const std::string& message) {
  HttpResponse res{status, version};
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-store");
  res.body() = "{\"error\":{\"status\":" + std::to_string(static_cast<unsigned>(status)) + ",\"message\":\"" +
               message + "\"}}\n";
  res.keep_alive(false);
  res.prepare_payload();
  return res;
}

// One connection: read a request (bounded, timed), answer it, repeat while keep-alive.
class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket socket, const HttpServerOptions& options, const HttpHandler& handler)
      : stream_(std::move(socket)), options_(options), handler_(handler) {}

  void run() { asio::dispatch(stream_.get_executor(), beast::bind_front_handler(&HttpSession::read, shared_from_this())); }

 private:
  void read() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(options_.max_header_bytes));
    parser_->body_limit(options_.max_body_bytes);
    // The first request within read_timeout; a kept-alive connection waits idle_timeout for the next.
    stream_.expires_after(first_request_ ? options_.read_timeout : options_.idle_timeout);
    first_request_ = false;
    http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&HttpSession::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec == http::error::end_of_stream) return close();
    if (ec == http::error::header_limit) return reply(plain_error(http::status::request_header_fields_too_large, 11, "request header too large"));
    if (ec == http::error::body_limit) return reply(plain_error(http::status::payload_too_large, 11, "request body too large"));
    if (ec) return fail(ec, "read");
    HttpRequest req = parser_->release();
    HttpResponse res = handler_(req);
    res.keep_alive(res.keep_alive() && req.keep_alive());
    reply(std::move(res));
  }

  void reply(HttpResponse res) {
    response_ = std::make_shared<HttpResponse>(std::move(res));
    stream_.expires_after(options_.write_timeout);
    http::async_write(stream_, *response_, beast::bind_front_handler(&HttpSession::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t) {
    if (ec) return fail(ec, "write");
    if (!response_->keep_alive()) return close();
    response_.reset();
    read();
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  void fail(beast::error_code ec, const char* what) {
    // Timeouts and clients going away are routine for a browser tab; worth a debug line only.
    if (ec != asio::error::operation_aborted) spdlog::debug("ui: {}: {}", what, ec.message());
    beast::error_code ignored;
    stream_.socket().close(ignored);
  }

  beast::tcp_stream stream_;
  const HttpServerOptions& options_;
  const HttpHandler& handler_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<HttpResponse> response_;
  bool first_request_ = true;
};

}  // namespace

class HttpServer::Impl {
 public:
  Impl(HttpServerOptions options, HttpHandler handler)
      : options_(std::move(options)), handler_(std::move(handler)), acceptor_(io_) {}

  std::string start(std::string* error) {
    auto fail = [&](const std::string& e) {
      *error = e;
      return std::string();
    };
    const std::string& listen = options_.listen;
    auto colon = listen.rfind(':');
    if (colon == std::string::npos) return fail("--listen wants ADDR:PORT, got '" + listen + "'");
    std::string host = listen.substr(0, colon);
    if (host.size() > 1 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    char* end = nullptr;
    long port = std::strtol(listen.c_str() + colon + 1, &end, 10);
    if (colon + 1 == listen.size() || *end || port < 0 || port > 65535)
      return fail("--listen wants ADDR:PORT with a port 0-65535, got '" + listen + "'");
    beast::error_code ec;
    auto address = asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
    if (ec) return fail("--listen needs an IP address (or localhost), got '" + host + "'");
    if (!address.is_loopback() && !options_.allow_remote)
      return fail("--listen " + listen + " is reachable from other machines; the viewer listens on loopback only");
    tcp::endpoint ep(address, static_cast<unsigned short>(port));
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return fail("cannot listen on " + listen + ": " + ec.message());
    bound_ = acceptor_.local_endpoint(ec);
    accept();
    for (int i = 0; i < std::max(1, options_.io_threads); ++i) threads_.emplace_back([this] { io_.run(); });
    return address_string();
  }

  void stop() {
    if (stopped_.exchange(true)) return;
    asio::post(io_, [this] {
      beast::error_code ec;
      acceptor_.close(ec);
      retry_.cancel();
    });
    io_.stop();
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }

  std::string address_string() const {
    auto a = bound_.address();
    return (a.is_v6() ? "[" + a.to_string() + "]" : a.to_string()) + ":" + std::to_string(bound_.port());
  }
  unsigned short port() const { return bound_.port(); }

 private:
  void accept() {
    acceptor_.async_accept(asio::make_strand(io_), [this](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
      if (!ec) {
        std::make_shared<HttpSession>(std::move(socket), options_, handler_)->run();
        return accept();
      }
      // Out of descriptors, say: retry shortly instead of spinning.
      spdlog::debug("ui: accept: {}", ec.message());
      retry_.expires_after(std::chrono::milliseconds(100));
      retry_.async_wait([this](beast::error_code e) {
        if (!e) accept();
      });
    });
  }

  HttpServerOptions options_;
  HttpHandler handler_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  asio::steady_timer retry_{io_};
  tcp::endpoint bound_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopped_{false};
};

HttpServer::HttpServer(HttpServerOptions options, HttpHandler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}
HttpServer::~HttpServer() { stop(); }
std::string HttpServer::start(std::string* error) { return impl_->start(error); }
void HttpServer::stop() { impl_->stop(); }
std::string HttpServer::address() const { return impl_->address_string(); }
unsigned short HttpServer::port() const { return impl_->port(); }

}  // namespace llmtap::ui
