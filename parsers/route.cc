#include "parsers/route.h"

#include <cctype>

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
  std::string r(h);
  for (auto& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
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

void classify_path(Route& r) {
  std::string_view path = r.path;
  if (auto colon = path.rfind(':'); colon != std::string_view::npos && path.find("/models/") != std::string_view::npos) {
    std::string_view method = path.substr(colon + 1);
    r.model_from_path = segment_after(path, "/models/");
    if (method == "generateContent" || method == "streamGenerateContent") {
      r.shape = ApiShape::kGemini;
      r.api = "gemini";
      r.operation = "generate_content";
      r.stream_from_path = method == "streamGenerateContent";
      return;
    }
    if (method == "embedContent" || method == "batchEmbedContents") {
      r.shape = ApiShape::kGeminiEmbeddings;
      r.api = "embeddings";
      r.operation = "embeddings";
      return;
    }
    r.model_from_path.clear();
  }
  if (path.find("/deployments/") != std::string_view::npos) r.model_from_path = segment_after(path, "/deployments/");
  if (ends_with(path, "/chat/completions")) {
    r.shape = ApiShape::kChatCompletions;
    r.api = "chat_completions";
    r.operation = "chat";
  } else if (ends_with(path, "/responses")) {
    r.shape = ApiShape::kResponses;
    r.api = "responses";
    r.operation = "chat";
  } else if (ends_with(path, "/v1/messages")) {
    r.shape = ApiShape::kAnthropicMessages;
    r.api = "anthropic_messages";
    r.operation = "chat";
  } else if (ends_with(path, "/embeddings")) {
    r.shape = ApiShape::kEmbeddings;
    r.api = "embeddings";
    r.operation = "embeddings";
  } else if (path == "/api/chat") {
    r.shape = ApiShape::kOllamaChat;
    r.api = "ollama_chat";
    r.operation = "chat";
  } else {
    r.model_from_path.clear();
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
  for (std::string_view prefix : {"openai", "anthropic", "gemini"}) {
    if (!gateway_possible) break;
    std::string p = "/" + std::string(prefix) + "/";
    if (!starts_with(path, p) && path != p.substr(0, p.size() - 1)) continue;
    std::string_view after = path.substr(std::min(path.size(), p.size() - 1));
    if (prefix == "openai" && conn.source != "gateway" && starts_with(after, "/deployments/")) break;
    path = after.empty() ? std::string_view("/") : after;
    entry.provider = std::string(prefix);
    entry.api_style = std::string(prefix);
    std::string real = default_host_for_provider(prefix);
    if (builtin_provider_for_host(r.host).provider != prefix) r.host = real;
    break;
  }
  r.path.assign(path);
  if (entry.provider == "chatgpt") {
    // Only Codex's Responses endpoint is a model API there, and it is OpenAI's.
    if (r.path != kChatGptCodexResponsesPath) {
      r.records = false;
      return r;
    }
    entry.provider = "openai";
  }
  classify_path(r);
  if (!entry.provider.empty()) {
    r.provider = entry.provider;
  } else if (r.shape == ApiShape::kOllamaChat || port == 11434) {
    r.provider = "ollama";
  }
  return r;
}

}  // namespace llmtap
