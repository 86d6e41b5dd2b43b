#include "parsers/route.h"

#include <cctype>

#include "common/ascii.h"
#include "common/gateway_route.h"
#include "common/provider_hosts.h"

namespace llmtap {
namespace {

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
bool ends_with(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

std::string lower_host(std::string_view h) {
  // Strip the port ("host:443", "[::1]:8080").
  if (!h.empty() && h[0] == '[') {
    auto e = h.find(']');
    h = e == std::string_view::npos ? h : h.substr(0, e + 1);
  } else if (auto c = h.rfind(':'); c != std::string_view::npos && h.find(':') == c) {
    h = h.substr(0, c);
  }
  return ascii_lower(h);
}

std::uint16_t port_of(std::string_view h) {
  auto c = h.rfind(':');
  if (c == std::string_view::npos || (h.find(']') != std::string_view::npos && h.find(']') > c)) return 0;
  unsigned v = 0;
  for (std::size_t i = c + 1; i < h.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(h[i])) || v > 65535) return 0;
    v = v * 10 + static_cast<unsigned>(h[i] - '0');
  }
  return v <= 65535 ? static_cast<std::uint16_t>(v) : 0;
}

// The segment following `marker` in `path` up to the next '/' or ':'.
std::string segment_after(std::string_view path, std::string_view marker) {
  auto p = path.rfind(marker);
  if (p == std::string_view::npos) return {};
  std::string_view rest = path.substr(p + marker.size());
  return std::string(rest.substr(0, rest.find_first_of("/:")));
}

// What each API endpoint is, by method and path shape; the first matching row wins. Only rows of
// kind kModelCall run an API parser and become generations. Paths not listed (model lists, files,
// conversation CRUD, a client's bootstrap or telemetry) and other methods (GET, HEAD, DELETE, a
// WebSocket upgrade) are kOther.
enum class PathMatch { kSuffix, kExact, kGeminiMethod };

struct EndpointRule {
  PathMatch match;
  std::string_view pattern;  // path suffix, exact path, or Gemini ":method"
  ExchangeKind kind;
  ApiShape shape;
  const char* api;
  const char* operation;
  bool stream = false;  // the path says the response streams (Gemini :streamGenerateContent)
};

constexpr EndpointRule kEndpointRules[] = {
    {PathMatch::kGeminiMethod, "generateContent", ExchangeKind::kModelCall, ApiShape::kGemini, "gemini",
     "generate_content"},
    {PathMatch::kGeminiMethod, "streamGenerateContent", ExchangeKind::kModelCall, ApiShape::kGemini, "gemini",
     "generate_content", true},
    {PathMatch::kGeminiMethod, "embedContent", ExchangeKind::kModelCall, ApiShape::kGeminiEmbeddings, "embeddings",
     "embeddings"},
    {PathMatch::kGeminiMethod, "batchEmbedContents", ExchangeKind::kModelCall, ApiShape::kGeminiEmbeddings,
     "embeddings", "embeddings"},
    {PathMatch::kGeminiMethod, "countTokens", ExchangeKind::kTokenCount, ApiShape::kNone, "gemini", ""},
    {PathMatch::kSuffix, "/chat/completions", ExchangeKind::kModelCall, ApiShape::kChatCompletions,
     "chat_completions", "chat"},
    {PathMatch::kSuffix, "/responses", ExchangeKind::kModelCall, ApiShape::kResponses, "responses", "chat"},
    {PathMatch::kSuffix, "/responses/compact", ExchangeKind::kModelCall, ApiShape::kResponses, "responses", "chat"},
    {PathMatch::kSuffix, "/responses/input_tokens", ExchangeKind::kTokenCount, ApiShape::kNone, "responses", ""},
    {PathMatch::kSuffix, "/v1/messages", ExchangeKind::kModelCall, ApiShape::kAnthropicMessages,
     "anthropic_messages", "chat"},
    {PathMatch::kSuffix, "/v1/messages/count_tokens", ExchangeKind::kTokenCount, ApiShape::kNone,
     "anthropic_messages", ""},
    {PathMatch::kSuffix, "/embeddings", ExchangeKind::kModelCall, ApiShape::kEmbeddings, "embeddings", "embeddings"},
    {PathMatch::kExact, "/api/chat", ExchangeKind::kModelCall, ApiShape::kOllamaChat, "ollama_chat", "chat"},
};

bool rule_matches(const EndpointRule& rule, std::string_view path) {
  switch (rule.match) {
    case PathMatch::kSuffix: return ends_with(path, rule.pattern);
    case PathMatch::kExact: return path == rule.pattern;
    case PathMatch::kGeminiMethod: {
      auto colon = path.rfind(':');
      return colon != std::string_view::npos && path.find("/models/") != std::string_view::npos &&
             path.substr(colon + 1) == rule.pattern;
    }
  }
  return false;
}

void classify_path(Route& r, std::string_view method) {
  std::string_view path = r.path;
  if (method != "POST") return;  // every model API call is a POST
  for (const auto& rule : kEndpointRules) {
    if (!rule_matches(rule, path)) continue;
    r.kind = rule.kind;
    r.api = rule.api;
    if (rule.kind != ExchangeKind::kModelCall) return;
    r.shape = rule.shape;
    r.operation = rule.operation;
    r.stream_from_path = rule.stream;
    if (rule.match == PathMatch::kGeminiMethod) r.model_from_path = segment_after(path, "/models/");
    else if (path.find("/deployments/") != std::string_view::npos) r.model_from_path = segment_after(path, "/deployments/");
    return;
  }
}

}  // namespace

Route route_request(const RequestHead& head, const ConnectionInfo& conn, const ProviderRegistry* registry) {
  Route r;
  std::string_view target = head.target;
  std::string host_with_port;
  // Absolute form: http://host[:port]/path
  if (auto scheme = target.find("://"); scheme != std::string_view::npos && !starts_with(target, "/")) {
    std::string_view rest = target.substr(scheme + 3);
    auto slash = rest.find_first_of("/?");
    host_with_port.assign(rest.substr(0, slash));
    target = slash == std::string_view::npos ? std::string_view("/") : rest.substr(slash);
  }
  if (host_with_port.empty()) host_with_port = conn.host;
  if (host_with_port.empty()) {
    for (const auto& h : head.headers) {
      if (h.name.size() == 4 && lower_host(h.name) == "host") host_with_port = h.value;
    }
  }
  r.host = canonical_host(lower_host(host_with_port));  // "API.openai.com.:443" is api.openai.com
  std::uint16_t port = port_of(host_with_port);
  if (port == 0) port = conn.port;

  auto q = target.find('?');
  std::string_view path = target.substr(0, q);
  if (q != std::string_view::npos) r.query.assign(target.substr(q + 1));

  ProviderEntry entry = registry ? registry->lookup(r.host, port) : builtin_provider_for_host(r.host);

  // Gateway routes: /openai/..., /anthropic/..., /gemini/... name the provider. Known provider hosts
  // keep their own paths (Groq's /openai/v1, Azure's /openai/deployments).
  bool gateway_possible = conn.source == "gateway" || entry.provider.empty();
  std::string_view gateway_name;
  for (std::string_view prefix : {"openai", "anthropic", "gemini"}) {
    if (!gateway_possible) break;
    std::string p = "/" + std::string(prefix) + "/";
    if (!starts_with(path, p) && path != p.substr(0, p.size() - 1)) continue;
    std::string_view after = path.substr(std::min(path.size(), p.size() - 1));
    if (prefix == "openai" && conn.source != "gateway" && starts_with(after, "/deployments/")) break;
    path = after.empty() ? std::string_view("/") : after;
    gateway_name = prefix;
    entry.provider = std::string(prefix);
    entry.api_style = std::string(prefix);
    std::string real = default_host_for_provider(prefix);
    if (builtin_provider_for_host(r.host).provider != prefix) r.host = real;
    break;
  }
  r.path = gateway_name.empty() ? std::string(path) : gateway_api_path(gateway_name, path);
  if (entry.provider == "chatgpt") {
    // Only Codex's Responses endpoint is a model API there, and it is OpenAI's.
    if (r.path != kChatGptCodexResponsesPath) {
      r.records = false;
      return r;
    }
    entry.provider = "openai";
  }
  classify_path(r, head.method);
  if (!entry.provider.empty()) {
    r.provider = entry.provider;
  } else if (r.shape == ApiShape::kOllamaChat || port == 11434) {
    r.provider = "ollama";
  }
  return r;
}

}  // namespace llmtap
