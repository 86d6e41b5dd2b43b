#pragma once
// Who may use the proxy (sans-IO). Each llmtap data directory holds one random credential
// (proxy-credential, mode 0600). Clients present it
//   - on forward-proxy requests (CONNECT, absolute-form) as Proxy-Authorization: Basic
//     base64("llmtap:" CREDENTIAL) (any user name), which is what HTTPS_PROXY=http://llmtap:CREDENTIAL@ADDR
//     makes every HTTP client send;
//   - on gateway routes as a leading path segment pair, http://ADDR/t/CREDENTIAL/openai/v1, because
//     the app's own Authorization header belongs to its provider and base-URL settings carry only a URL.
// The token segment is removed before the request is tapped, logged or forwarded.
#include <optional>
#include <string>
#include <string_view>

namespace llmtap::proxy {

inline constexpr std::string_view kCredentialFileName = "proxy-credential";
inline constexpr std::string_view kCredentialUser = "llmtap";
inline constexpr std::string_view kGatewayTokenPrefix = "/t/";

// <data_dir>/proxy-credential: read, or created with 128 random bits (hex). "" or an error.
std::string load_or_create_credential(const std::string& data_dir, std::string* credential, std::string* path);

// True when HEADER_VALUE (a Proxy-Authorization value) is Basic with CREDENTIAL as the password.
bool proxy_authorization_matches(std::string_view header_value, std::string_view credential);

enum class GatewayToken { kMissing, kWrong, kOk };
struct GatewayTarget {
  GatewayToken token = GatewayToken::kMissing;
  std::size_t strip_offset = 0;  // where "/t/TOKEN" starts in the target (0)
  std::size_t strip_length = 0;  // bytes to remove from the target (and the request line)
  std::string_view rest;         // the target without it: "/openai/v1/..."
};
// Splits "/t/TOKEN/rest" off an origin-form TARGET and checks TOKEN against CREDENTIAL.
GatewayTarget parse_gateway_target(std::string_view target, std::string_view credential);

// Constant-time comparison (the credential must not leak through timing).
bool secret_equals(std::string_view a, std::string_view b);

// http://llmtap:CREDENTIAL@ADDR and http://ADDR/t/CREDENTIAL: what `llmtap run` sets.
std::string proxy_url_with_credential(std::string_view address, std::string_view credential);
std::string gateway_base_with_credential(std::string_view address, std::string_view credential);

}  // namespace llmtap::proxy
