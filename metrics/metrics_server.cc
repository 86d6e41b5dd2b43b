#include "metrics/metrics_server.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <thread>

#include "common/thread_priority.h"
#include "proxy/request_routing.h"

namespace llmtap::metrics {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

constexpr auto kTimeout = std::chrono::seconds(10);

struct Shared {
  MetricsServer::Render render;
  std::atomic<int> connections{0};
};

class ScrapeSession : public std::enable_shared_from_this<ScrapeSession> {
 public:
  ScrapeSession(tcp::socket socket, Shared& shared) : stream_(std::move(socket)), shared_(shared) {
    shared_.connections.fetch_add(1);
  }
  ~ScrapeSession() { shared_.connections.fetch_sub(1); }

  void run() {
    parser_.emplace();
    parser_->header_limit(16 * 1024);
    parser_->body_limit(0);
    stream_.expires_after(kTimeout);
    http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&ScrapeSession::on_read, shared_from_this()));
  }

 private:
  void on_read(beast::error_code ec, std::size_t) {
    if (ec) return fail(ec);
    const auto& req = parser_->get();
    response_.version(11);
    response_.keep_alive(false);
    response_.set(http::field::server, "llmtap");
    const std::string_view target(req.target().data(), req.target().size());
    const std::string_view path = target.substr(0, target.find('?'));
    if (req.method() != http::verb::get && req.method() != http::verb::head) {
      response_.result(http::status::method_not_allowed);
      response_.set(http::field::allow, "GET, HEAD");
      response_.body() = "GET /metrics\n";
    } else if (path != "/metrics") {
      response_.result(http::status::not_found);
      response_.body() = "llmtap serves its Prometheus metrics at /metrics\n";
    } else {
      response_.result(http::status::ok);
      response_.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
      response_.body() = shared_.render();
      if (req.method() == http::verb::head) response_.body().clear();
    }
    if (response_.result() != http::status::ok) response_.set(http::field::content_type, "text/plain; charset=utf-8");
    response_.prepare_payload();
    stream_.expires_after(kTimeout);
    http::async_write(stream_, response_, beast::bind_front_handler(&ScrapeSession::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t) {
    if (ec) return fail(ec);
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  void fail(beast::error_code ec) {
    if (ec != http::error::end_of_stream && ec != net::error::operation_aborted)
      spdlog::debug("metrics scrape connection: {}", ec.message());
    beast::error_code ignored;
    stream_.socket().close(ignored);
  }

  beast::tcp_stream stream_;
  Shared& shared_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::empty_body>> parser_;
  http::response<http::string_body> response_;
};

class RunningMetricsServer final : public MetricsServer {
 public:
  ~RunningMetricsServer() override {
    net::post(ioc_, [this] {
      beast::error_code ec;
      acceptor_.close(ec);
    });
    guard_.reset();
    ioc_.stop();
    if (thread_.joinable()) thread_.join();
  }
  std::string address() const override { return address_; }

  bool start(const std::string& listen, bool allow_remote, Render render, std::string* error) {
    shared_.render = std::move(render);
    std::string host;
    std::uint16_t port = 0;
    if (!proxy::split_host_port(listen, 9464, host, port)) return fail(error, "--metrics-listen wants ADDR:PORT, got '" + listen + "'");
    if (host == "localhost") host = "127.0.0.1";
    beast::error_code ec;
    auto address = net::ip::make_address(host, ec);
    if (ec) return fail(error, "--metrics-listen needs an IP address, got " + host);
    if (!address.is_loopback()) {
      if (!allow_remote)
        return fail(error, "--metrics-listen " + listen + " is reachable from other machines; listen on 127.0.0.1, "
                           "or add --allow-remote if that is what you want");
      spdlog::warn("metrics on {}: reachable from other machines (--allow-remote)", listen);
    }
    tcp::endpoint ep(address, port);
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) return fail(error, "cannot listen for metrics on " + listen + ": " + ec.message());
    auto bound = acceptor_.local_endpoint();
    address_ = (bound.address().is_v6() ? "[" + bound.address().to_string() + "]" : bound.address().to_string()) + ":" +
               std::to_string(bound.port());
    do_accept();
    thread_ = std::thread([this] {
      enter_background_thread("llmtap-metrics");
      ioc_.run();
    });
    return true;
  }

 private:
  static bool fail(std::string* error, std::string m) {
    *error = std::move(m);
    return false;
  }
  void do_accept() {
    acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
      if (!ec) {
        if (shared_.connections.load() >= kMaxConnections) {
          beast::error_code ignored;
          socket.close(ignored);  // a scraper needs one connection; more is a flood
        } else {
          std::make_shared<ScrapeSession>(std::move(socket), shared_)->run();
        }
      }
      do_accept();
    });
  }

  net::io_context ioc_{1};
  std::optional<net::executor_work_guard<net::io_context::executor_type>> guard_{net::make_work_guard(ioc_)};
  tcp::acceptor acceptor_{ioc_};
  Shared shared_;
  std::string address_;
  std::thread thread_;
};

}  // namespace

std::unique_ptr<MetricsServer> MetricsServer::start(const std::string& listen, bool allow_remote, Render render,
                                                    std::string* error) {
  auto s = std::make_unique<RunningMetricsServer>();
  if (!s->start(listen, allow_remote, std::move(render), error)) return nullptr;
  return s;
}

}  // namespace llmtap::metrics
