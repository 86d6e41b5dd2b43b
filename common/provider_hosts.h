#pragma once
// Which hosts belong to which model provider. Shared by the proxy (what to intercept), the preload
// shim's collector (what to capture) and the parsers (how to route).
#include <string>
#include <string_view>

namespace llmtap {

inline bool host_ends_with(std::string_view host, std::string_view suffix) {
  return host.size() > suffix.size() && host.substr(host.size() - suffix.size()) == suffix;
}

// Provider name for a well-known API host, "" if unknown. Host is compared lowercase, without port.
inline std::string provider_for_host(std::string_view host) {
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
