#pragma once
// Which provider a host belongs to: the built-in table (common/provider_hosts.h) plus hosts
// declared at runtime by config (self-hosted vLLM, a company gateway, ...). Read-only once built;
// share it between parsers through ParserOptions::registry.
#include <string>
#include <string_view>
#include <vector>

namespace llmtap {

struct ProviderEntry {
  std::string provider;   // "" when unknown
  std::string api_style;  // "openai", "anthropic", "gemini", "openai_compatible", "ollama"
};

class ProviderRegistry {
 public:
  // `host` is "name", "name:port", or "*.suffix" (any subdomain). `api_style` is informational:
  // the request path decides which API parser runs.
  void add(std::string host, std::string provider, std::string api_style = "openai_compatible");
  // Declared hosts win over the built-in table. `host` may carry a port; case is ignored.
  ProviderEntry lookup(std::string_view host, std::uint16_t port = 0) const;

 private:
  struct Entry {
    std::string host;  // lowercase; "*.x" for suffix entries
    ProviderEntry value;
  };
  std::vector<Entry> entries_;
};

// The built-in table only (what lookup() falls back to), with api styles filled in.
ProviderEntry builtin_provider_for_host(std::string_view host);

}  // namespace llmtap
