#pragma once
// Which connections the shim captures: provider API hosts (common/provider_hosts.h) plus the hosts
// listed in LLMTAP_HOSTS (comma-separated; "*.example.com" or ".example.com" match subdomains).
#include <string>
#include <string_view>
#include <vector>

#include "common/provider_hosts.h"

namespace llmtap::preload {

class HostFilter {
 public:
  explicit HostFilter(std::string_view extra_hosts_csv) {
    std::size_t pos = 0;
    while (pos <= extra_hosts_csv.size()) {
      std::size_t end = extra_hosts_csv.find(',', pos);
      if (end == std::string_view::npos) end = extra_hosts_csv.size();
      std::string item = normalize(extra_hosts_csv.substr(pos, end - pos));
      if (item.rfind("*.", 0) == 0) item.erase(0, 1);
      if (!item.empty()) extra_.push_back(std::move(item));
      pos = end + 1;
    }
  }

  bool selected(std::string_view host) const {
    const std::string h = normalize(host);
    if (h.empty()) return false;
    if (!provider_for_host(h).empty()) return true;
    for (const std::string& e : extra_) {
      if (e[0] == '.' ? host_ends_with(h, e) : h == e) return true;
    }
    return false;
  }

 private:
  static std::string normalize(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return canonical_host(s);  // the same spelling the proxy and the parsers compare
  }

  std::vector<std::string> extra_;
};

}  // namespace llmtap::preload
