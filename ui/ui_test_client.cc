#include "ui/ui_test_client.h"

#include <cctype>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace llmtap::ui::testing {

Reply get(const std::string& address, const std::string& target, const std::string& bearer, const std::string& host,
          const std::string& method, const std::string& body) {
  namespace beast = boost::beast;
  namespace http = beast::http;
  using tcp = boost::asio::ip::tcp;
  Reply out;
  auto colon = address.rfind(':');
  boost::asio::io_context io;
  beast::tcp_stream stream(io);
  beast::error_code ec;
  tcp::endpoint ep(boost::asio::ip::make_address(address.substr(0, colon)),
                   static_cast<unsigned short>(std::stoi(address.substr(colon + 1))));
  stream.expires_after(std::chrono::seconds(30));
  stream.connect(ep, ec);
  if (ec) return out.error = "connect: " + ec.message(), out;
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, host.empty() ? address : host);
  if (!bearer.empty()) req.set(http::field::authorization, "Bearer " + bearer);
  if (!body.empty()) req.body() = body;
  req.prepare_payload();
  http::write(stream, req, ec);
  if (ec) return out.error = "write: " + ec.message(), out;
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(256 * 1024 * 1024);
  if (method == "HEAD") parser.skip(true);
  http::read(stream, buffer, parser, ec);
  if (ec) return out.error = "read: " + ec.message(), out;
  auto res = parser.release();
  out.status = static_cast<int>(res.result_int());
  for (const auto& f : res) {
    std::string name(f.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers[name] = std::string(f.value());
  }
  out.body = res.body();
  return out;
}

}  // namespace llmtap::ui::testing
