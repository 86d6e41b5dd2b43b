#include "proxy/tunnel_session.h"

#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

#include "proxy/address_policy.h"
#include "proxy/local_response.h"

namespace llmtap::proxy {

TunnelSession::TunnelSession(Worker& w, beast::tcp_stream client, beast::flat_buffer pending, std::string host,
                             std::uint16_t port, bool public_only)
    : SessionBase(w),
      client_(std::move(client)),
      upstream_(client_.get_executor()),
      resolver_(client_.get_executor()),
      pending_(std::move(pending)),
      host_(std::move(host)),
      port_(port),
      public_only_(public_only) {}

void TunnelSession::run() {
  resolver_.async_resolve(host_, std::to_string(port_),
                          beast::bind_front_handler(&TunnelSession::on_resolved, shared_from_this()));
}

void TunnelSession::on_resolved(beast::error_code ec, net::ip::tcp::resolver::results_type results) {
  if (ec) return fail(502, "dns_resolution_failed", ec.message());
  if (public_only_)
    for (const auto& r : results)
      if (is_non_public_address(r.endpoint().address()))
        return fail(403, "private_upstream_refused", non_public_refusal(host_, r.endpoint().address()));
  upstream_.expires_after(worker_.ctx.options.connect_timeout);
  upstream_.async_connect(results, [self = shared_from_this()](beast::error_code ec, const auto&) {
    self->on_connected(ec);
  });
}

void TunnelSession::on_connected(beast::error_code ec) {
  if (ec == beast::error::timeout) return fail(504, "connect_timeout", "no connection within the connect timeout");
  if (ec == net::error::connection_refused) return fail(502, "connection_refused", ec.message());
  if (ec) return fail(502, "connect_failed", ec.message());
  upstream_.socket().set_option(net::ip::tcp::no_delay(true), ec);
  reply_ = "HTTP/1.1 200 Connection Established\r\n\r\n";
  client_.expires_after(worker_.ctx.options.idle_timeout);
  net::async_write(client_, net::buffer(reply_), [self = shared_from_this()](beast::error_code ec, std::size_t) {
    if (ec) return self->close_both();
    if (self->pending_.size() == 0) {
      self->pump(self->client_, self->upstream_, self->up_pipe_);
      self->pump(self->upstream_, self->client_, self->down_pipe_);
      return;
    }
    net::async_write(self->upstream_, self->pending_.data(), [self](beast::error_code ec, std::size_t) {
      if (ec) return self->close_both();
      self->pending_.clear();
      self->pump(self->client_, self->upstream_, self->up_pipe_);
      self->pump(self->upstream_, self->client_, self->down_pipe_);
    });
  });
}

void TunnelSession::fail(int status, const char* cause, const std::string& message) {
  spdlog::warn("{} {} for {}:{}: {}", status, cause, host_, port_, message);
  reply_ = make_error_response(status, cause, host_, message);
  client_.expires_after(worker_.ctx.options.idle_timeout);
  net::async_write(client_, net::buffer(reply_),
                   [self = shared_from_this()](beast::error_code, std::size_t) { self->close_both(); });
}

void TunnelSession::pump(beast::tcp_stream& from, beast::tcp_stream& to, Pipe& pipe) {
  from.expires_after(worker_.ctx.options.idle_timeout);
  from.async_read_some(net::buffer(pipe.buf), [self = shared_from_this(), &from, &to, &pipe](beast::error_code ec,
                                                                                           std::size_t n) {
    if (ec) {
      pipe.done = true;
      beast::error_code ignored;
      if (ec == net::error::eof) {
        to.socket().shutdown(net::ip::tcp::socket::shutdown_send, ignored);  // pass the half-close on
        if (self->up_pipe_.done && self->down_pipe_.done) self->close_both();
        return;
      }
      return self->close_both();
    }
    to.expires_after(self->worker_.ctx.options.idle_timeout);
    net::async_write(to, net::buffer(pipe.buf.data(), n), [self, &from, &to, &pipe](beast::error_code ec, std::size_t) {
      if (ec) return self->close_both();
      self->pump(from, to, pipe);
    });
  });
}

void TunnelSession::close_both() {
  beast::error_code ec;
  client_.socket().shutdown(net::ip::tcp::socket::shutdown_both, ec);
  upstream_.socket().shutdown(net::ip::tcp::socket::shutdown_both, ec);
  client_.close();
  upstream_.close();
}

void TunnelSession::on_server_stop() {
  // Tunnelled traffic is opaque: llmtap cannot tell when an exchange ends, so it does not hold stop().
  close_both();
}

}  // namespace llmtap::proxy
