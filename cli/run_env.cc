// Environment rules of `llmtap run` (SPEC.md; issue: proxy, gateway and preload environments).
#include "cli/run_env.h"

#include "common/gateway_route.h"

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "common/data_dir.h"
#include "common/private_file.h"
#include "proxy/proxy_auth.h"

extern char** environ;

namespace llmtap::cli {

namespace {

bool set_nonempty(const EnvMap& env, const std::string& name) {
  auto it = env.find(name);
  return it != env.end() && !it->second.empty();
}

std::string get(const EnvMap& env, const std::string& name) {
  auto it = env.find(name);
  return it == env.end() ? std::string() : it->second;
}

std::string trim_trailing_slashes(std::string s) {
  // Keep "scheme://" intact.
  while (s.size() > 1 && s.back() == '/' && s.find("://") + 3 < s.size()) s.pop_back();
  return s;
}

// NO_PROXY entries, comma separated, compared without surrounding blanks.
bool list_contains(const std::string& list, const std::string& item) {
  std::stringstream ss(list);
  std::string e;
  while (std::getline(ss, e, ',')) {
    auto b = e.find_first_not_of(" \t"), en = e.find_last_not_of(" \t");
    if (b != std::string::npos && e.substr(b, en - b + 1) == item) return true;
  }
  return false;
}

std::string append_to_list(std::string list, const std::string& item) {
  if (list_contains(list, item)) return list;
  if (!list.empty()) list += ",";
  return list + item;
}

std::uint64_t fnv1a(const std::string& s) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace

EnvMap current_environment() {
  EnvMap env;
  for (char** e = environ; e && *e; ++e) {
    std::string kv = *e;
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) continue;
    env.emplace(kv.substr(0, eq), kv.substr(eq + 1));  // first occurrence wins, as getenv does
  }
  return env;
}

std::vector<std::string> to_envp(const EnvMap& env) {
  std::vector<std::string> out;
  out.reserve(env.size());
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

const std::vector<GatewayVariable>& gateway_variables() {
  // OpenAI SDKs (Python, Node, Agents SDK) read OPENAI_BASE_URL and append /chat/completions etc.
  // to it, so the route keeps /v1. Anthropic's SDKs read ANTHROPIC_BASE_URL and append /v1/messages.
  // Google's genai SDKs and the Gemini CLI read GOOGLE_GEMINI_BASE_URL; GEMINI_BASE_URL is the name
  // several other tools use. Both append /v1beta/models/...
  static const std::vector<GatewayVariable> vars = {
      {"openai", "OPENAI_BASE_URL", "/v1"},
      {"anthropic", "ANTHROPIC_BASE_URL", ""},
      {"gemini", "GOOGLE_GEMINI_BASE_URL", ""},
      {"gemini", "GEMINI_BASE_URL", ""},
  };
  return vars;
}

std::vector<UserBaseUrl> user_base_urls(const EnvMap& user) {
  std::vector<UserBaseUrl> out;
  for (const auto& gv : gateway_variables()) {
    bool seen = false;
    for (const auto& u : out) seen |= (u.provider == gv.provider);
    if (seen || !set_nonempty(user, gv.variable)) continue;
    std::string url = trim_trailing_slashes(get(user, gv.variable));
    if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) continue;
    UserBaseUrl b{gv.provider, gv.variable, url, ""};
    // Keep the SDK's version segment on our side of the gateway so the upstream is a plain base
    // (OPENAI_BASE_URL=https://gw/v1, or ANTHROPIC_BASE_URL=https://gw/v1 as the AI SDK wants it).
    const std::size_t path_start = url.find('/', url.find("://") + 3);
    if (path_start != std::string::npos && ends_with_version_segment(std::string_view(url).substr(path_start))) {
      const std::size_t slash = url.rfind('/');
      b.route_suffix = url.substr(slash);
      b.upstream = url.substr(0, slash);
    }
    out.push_back(std::move(b));
  }
  return out;
}

std::string extended_bundle_path(const std::string& bundle_dir, const std::string& user_file) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fnv1a(user_file)));
  return bundle_dir + "/ca-bundle-user-" + hex + ".pem";
}

RunEnvironment build_run_environment(const EnvMap& user, const RunEndpoints& ep, CaptureModes modes) {
  RunEnvironment out;
  out.env = user;
  EnvMap& env = out.env;
  // The credential rides in the URLs every client already reads: userinfo of the proxy URL (sent
  // as Proxy-Authorization) and a /t/CREDENTIAL segment before the gateway routes.
  const std::string proxy_url = proxy::proxy_url_with_credential(ep.proxy_address, ep.proxy_credential);
  const std::string base = proxy::gateway_base_with_credential(ep.proxy_address, ep.proxy_credential);

  // A trust variable the user set replaces the system store for that client: extend their file with
  // llmtap's CA rather than replacing it, so their own CAs (corporate roots, ...) keep working.
  auto trust = [&](const std::string& name, const std::string& default_value) {
    std::string user_file = get(user, name);
    if (user_file.empty()) {
      env[name] = default_value;
      return;
    }
    bool already_ours = user_file == ep.ca_cert_path || user_file == ep.ca_bundle_path ||
                        user_file.rfind(ep.bundle_dir + "/ca-bundle-user-", 0) == 0;
    if (already_ours) return;
    BundleSpec spec{extended_bundle_path(ep.bundle_dir, user_file), {user_file, ep.ca_cert_path}};
    bool have = false;
    for (const auto& b : out.bundles) have |= (b == spec);
    if (!have) out.bundles.push_back(spec);
    env[name] = spec.path;
  };

  if (modes.proxy) {
    for (const char* name : {"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"}) env[name] = proxy_url;
    env["NODE_USE_ENV_PROXY"] = "1";
    trust("NODE_EXTRA_CA_CERTS", ep.ca_cert_path);  // Node adds these to its built-in roots
    for (const char* name : {"SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"})
      trust(name, ep.ca_bundle_path);  // these replace the store: system roots + CA
    // Loopback never goes through the proxy: the app's own local services (an OTLP collector, a
    // local model server, a helper process) are not provider traffic, and gateway URLs point at
    // llmtap itself over plain HTTP. The user's own entries stay, first.
    std::vector<std::string> direct = {"127.0.0.1", "localhost", "::1"};
    if (modes.gateway) direct.push_back(ep.proxy_address.substr(0, ep.proxy_address.rfind(':')));
    for (const char* name : {"NO_PROXY", "no_proxy"}) {
      std::string cur = set_nonempty(user, name) ? get(user, name)
                                                 : get(user, name == std::string("NO_PROXY") ? "no_proxy" : "NO_PROXY");
      for (const auto& host : direct) cur = append_to_list(cur, host);
      env[name] = cur;
    }
  }

  if (modes.gateway) {
    auto user_urls = user_base_urls(user);
    for (const auto& gv : gateway_variables()) {
      std::string suffix = gv.default_suffix;
      for (const auto& u : user_urls)
        if (u.provider == gv.provider) suffix = u.route_suffix;
      env[gv.variable] = base + "/" + gv.provider + suffix;
    }
  }

  if (modes.preload) {
    std::string cur = get(user, "LD_PRELOAD");
    if (cur.find(ep.preload_library) == std::string::npos || ep.preload_library.empty()) {
      // LD_PRELOAD separates entries with blanks or colons; keep the user's libraries first.
      env["LD_PRELOAD"] = cur.empty() ? ep.preload_library : cur + ":" + ep.preload_library;
    }
    env["LLMTAP_COLLECTOR_SOCKET"] = ep.collector_socket;
  }
  return out;
}

std::string write_ca_bundles(const std::vector<BundleSpec>& bundles) {
  std::string problems;
  for (const auto& b : bundles) {
    std::string content;
    for (const auto& src : b.sources) {
      std::ifstream in(src, std::ios::binary);
      if (!in) {
        problems += (problems.empty() ? "" : "; ") + ("cannot read " + src);
        continue;
      }
      std::stringstream ss;
      ss << in.rdbuf();
      std::string pem = ss.str();
      if (!pem.empty() && pem.back() != '\n') pem += '\n';
      content += pem;
    }
    // The bundle goes beside llmtap's CA: only into a directory that passes the data-directory check.
    std::string error;
    if (std::string e = check_private_dir(parent_dir(b.path)); !e.empty() ||
        !write_file_atomically(b.path, content, 0644, &error)) {
      problems += (problems.empty() ? "" : "; ") + (e.empty() ? error : e);
    }
  }
  return problems;
}

}  // namespace llmtap::cli
