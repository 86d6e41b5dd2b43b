#include "proxy/local_response.h"

#include <nlohmann/json.hpp>

namespace llmtap::proxy {

const char* reason_phrase(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 407: return "Proxy Authentication Required";
    case 408: return "Request Timeout";
    case 431: return "Request Header Fields Too Large";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Error";
  }
}

std::string make_error_response(int status, std::string_view cause, std::string_view host, std::string_view message,
                                std::string_view extra_headers) {
  nlohmann::json body = {{"error",
                          {{"type", "llmtap_proxy_error"},
                           {"status", status},
                           {"cause", cause},
                           {"host", host},
                           {"message", message}}}};
  std::string text = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  text.push_back('\n');
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + reason_phrase(status) +
                    "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(text.size()) +
                    "\r\nConnection: close\r\nX-Llmtap-Error: " + std::string(cause) + "\r\n" +
                    std::string(extra_headers) + "\r\n";
  out += text;
  return out;
}

std::string_view loggable_path(std::string_view target) {
  auto q = target.find('?');
  return q == std::string_view::npos ? target : target.substr(0, q);
}

}  // namespace llmtap::proxy
