#pragma once
// Which hosts belong to which model provider. Shared by the proxy (what to intercept), the preload
// shim's collector (what to capture) and the parsers (how to route).
#include <string>
#include <string_view>

namespace llmtap {

inline bool host_ends_with(std::string_view host, std::string_view suffix) {
  return host.size() > suffix.size() && host.substr(host.size() - suffix.size()) == suffix;
}

// The form hosts are compared in: ASCII lowercase, without the trailing dot of a fully qualified
// name ("API.OpenAI.com." and "api.openai.com" are one host; a client may send either).
inline std::string canonical_host(std::string_view host) {
  if (host.size() > 1 && host.back() == '.') host.remove_suffix(1);
  std::string out(host);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// Provider name for a well-known API host, "" if unknown. HOST is without port; compared canonically.
inline std::string provider_for_host(std::string_view host_in) {
  const std::string canonical = canonical_host(host_in);
  const std::string_view host = canonical;
  if (host == "api.openai.com") return "openai";
  if (host == "api.anthropic.com") return "anthropic";
  if (host == "generativelanguage.googleapis.com") return "gemini";
  if (host_ends_with(host, ".openai.azure.com")) return "azure_openai";
  if (host == "openrouter.ai") return "openrouter";
  if (host == "api.groq.com") return "groq";
  if (host == "api.together.xyz") return "together";
  if (host == "api.deepseek.com") return "deepseek";
  if (host == "api.mistral.ai") return "mistral";
  // Codex signed in with a ChatGPT account. Only kChatGptCodexResponsesPath there is a model API
  // (the OpenAI Responses API, recorded as provider "openai"); the rest of the site is forwarded
  // and recorded nothing.
  if (host == "chatgpt.com") return "chatgpt";
  return "";
}

inline constexpr std::string_view kChatGptCodexResponsesPath = "/backend-api/codex/responses";

// The real host behind a gateway route name (/openai/..., /anthropic/..., /gemini/...).
inline std::string default_host_for_provider(std::string_view provider) {
  if (provider == "openai") return "api.openai.com";
  if (provider == "anthropic") return "api.anthropic.com";
  if (provider == "gemini") return "generativelanguage.googleapis.com";
  return "";
}

}  // namespace llmtap
