#pragma once
// Gateway routes (/openai/..., /anthropic/..., /gemini/...): the path after the route name is the
// provider's API path. SDKs append their paths to a base URL with or without the API's version
// segment (Anthropic's SDK posts ${ANTHROPIC_BASE_URL}/v1/messages, the Vercel AI SDK
// ${ANTHROPIC_BASE_URL}/messages), so a path that starts with one of the API's top-level resources
// gets the provider's version segment. Anything else (a client's bootstrap or telemetry path) is
// forwarded as it came. Shared by the proxy (where the request goes) and the parsers (what it is).
#include <array>
#include <string>
#include <string_view>

namespace llmtap {

struct GatewayApi {
  std::string_view provider;
  std::string_view version;                    // inserted when missing
  std::array<std::string_view, 16> resources;  // first path segments of its versioned API ("" unused)
};

inline const GatewayApi* gateway_api(std::string_view provider) {
  static const GatewayApi kApis[] = {
      {"openai", "/v1",
       {"chat", "responses", "embeddings", "completions", "models", "files", "conversations", "audio", "images",
        "moderations", "batches", "uploads", "vector_stores", "realtime"}},
      {"anthropic", "/v1", {"messages", "complete", "models", "files", "skills"}},
      {"gemini", "/v1beta", {"models", "files", "cachedContents", "tunedModels"}},
  };
  for (const auto& a : kApis)
    if (a.provider == provider) return &a;
  return nullptr;
}

// "/v1", "/v1beta", "/v2alpha1": a version segment, alone or followed by '/'.
inline bool is_version_segment(std::string_view seg) {
  if (seg.size() < 2 || seg[0] != 'v' || seg[1] < '0' || seg[1] > '9') return false;
  for (char c : seg.substr(1))
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z'))) return false;
  return true;
}

// Whether PATH ends with a version segment ("/prefix/v1"): an upstream base that already has one.
inline bool ends_with_version_segment(std::string_view path) {
  auto slash = path.rfind('/');
  return slash != std::string_view::npos && is_version_segment(path.substr(slash + 1));
}

// The API path for REST (what follows the route name, starting with '/', without query) when the
// upstream base path UPSTREAM_PREFIX is used: REST with the provider's version inserted when it
// starts with one of the API's resources and neither it nor the upstream base carries a version.
inline std::string gateway_api_path(std::string_view provider, std::string_view rest,
                                    std::string_view upstream_prefix = {}) {
  const GatewayApi* api = gateway_api(provider);
  if (api == nullptr || rest.size() < 2 || rest[0] != '/' || ends_with_version_segment(upstream_prefix))
    return std::string(rest);
  std::string_view first = rest.substr(1, rest.find_first_of("/:", 1) - 1);
  if (is_version_segment(first)) return std::string(rest);
  for (std::string_view r : api->resources)
    if (!r.empty() && first == r) return std::string(api->version) + std::string(rest);
  return std::string(rest);
}

}  // namespace llmtap
