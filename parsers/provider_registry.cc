#include "parsers/provider_registry.h"

#include <cctype>
#include <cstdint>

#include "common/ascii.h"
#include "common/provider_hosts.h"

namespace llmtap {
ProviderEntry builtin_provider_for_host(std::string_view host) {
  std::string p = provider_for_host(host);
  if (p.empty()) return {};
  if (p == "openai" || p == "anthropic" || p == "gemini") return {p, p};
  return {p, "openai_compatible"};
}

void ProviderRegistry::add(std::string host, std::string provider, std::string api_style) {
  entries_.push_back(Entry{canonical_host(host), ProviderEntry{std::move(provider), std::move(api_style)}});
}

ProviderEntry ProviderRegistry::lookup(std::string_view host, std::uint16_t port) const {
  std::string h = ascii_lower(host);
  if (auto c = h.rfind(':'); c != std::string::npos && h.find(']') == std::string::npos &&
                             h.find(':') == c) {
    if (port == 0) {
      for (std::size_t i = c + 1; i < h.size(); ++i) port = static_cast<std::uint16_t>(port * 10 + (h[i] - '0'));
    }
    h.resize(c);
  }
  h = canonical_host(h);
  std::string with_port = port ? h + ":" + std::to_string(port) : h;
  for (const auto& e : entries_) {
    if (e.host == with_port || e.host == h) return e.value;
  }
  for (const auto& e : entries_) {
    if (e.host.size() > 2 && e.host[0] == '*' && host_ends_with(h, std::string_view(e.host).substr(1))) return e.value;
  }
  return builtin_provider_for_host(h);
}

}  // namespace llmtap
