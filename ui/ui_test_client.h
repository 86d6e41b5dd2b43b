#pragma once
// A blocking HTTP/1.1 client for the viewer's tests and benchmark (loopback only).
#include <map>
#include <string>

namespace llmtap::ui::testing {

struct Reply {
  int status = 0;  // 0: no answer (the error says why)
  std::map<std::string, std::string> headers;  // lowercase names
  std::string body;
  std::string error;
};

// METHOD TARGET to ADDRESS ("127.0.0.1:PORT") with "Authorization: Bearer BEARER" when given; HOST
// defaults to ADDRESS.
Reply get(const std::string& address, const std::string& target, const std::string& bearer = "",
          const std::string& host = "", const std::string& method = "GET", const std::string& body = "");

}  // namespace llmtap::ui::testing
