#pragma once
// Responses the proxy writes itself (errors): a JSON body naming the cause and the host, and
// Connection: close, so an agent's logs say what went wrong instead of hanging.
#include <string>
#include <string_view>

namespace llmtap::proxy {

// Complete HTTP/1.1 response bytes.
// EXTRA_HEADERS: complete header lines ("Proxy-Authenticate: ...\r\n") added to the response.
std::string make_error_response(int status, std::string_view cause, std::string_view host, std::string_view message,
                                std::string_view extra_headers = {});
const char* reason_phrase(int status);
// Path of TARGET without the query (queries may carry API keys, e.g. Gemini's ?key=), for logs.
std::string_view loggable_path(std::string_view target);

}  // namespace llmtap::proxy
