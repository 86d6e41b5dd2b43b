#pragma once
// The environment `llmtap run` gives its child. Pure functions of the user's environment and of where
// llmtap listens, so every rule is unit-tested; writing the combined CA bundles is the one side effect,
// kept apart in write_ca_bundles().
#include <map>
#include <string>
#include <vector>

namespace llmtap::cli {

using EnvMap = std::map<std::string, std::string>;

// Snapshot of environ as a map.
EnvMap current_environment();
// "NAME=VALUE" strings, for exec.
std::vector<std::string> to_envp(const EnvMap& env);

// Which capture paths the child is pointed at.
struct CaptureModes {
  bool proxy = false;    // HTTPS_PROXY & co. + trust variables
  bool gateway = false;  // provider base-URL variables -> gateway routes
  bool preload = false;  // LD_PRELOAD shim + collector socket
};

// Where the running llmtap is reachable, and where combined CA bundles may be written.
struct RunEndpoints {
  std::string proxy_address;     // "127.0.0.1:PORT"
  std::string proxy_credential;  // what clients present (proxy URL userinfo, gateway /t/ segment); "" = none
  std::string ca_cert_path;      // llmtap's CA alone (PEM)
  std::string ca_bundle_path;    // system roots + llmtap's CA
  std::string collector_socket;  // preload: Unix socket path
  std::string preload_library;   // preload: path of libllmtap_preload.so
  std::string bundle_dir;        // where extended user bundles go (e.g. the data directory)
};

// A bundle file to write: the concatenation of SOURCES, in order, at PATH.
struct BundleSpec {
  std::string path;
  std::vector<std::string> sources;
  bool operator==(const BundleSpec&) const = default;
};

struct RunEnvironment {
  EnvMap env;                        // the child's full environment
  std::vector<BundleSpec> bundles;   // must exist before the child starts
};

// A provider whose base URL the user already set: the gateway forwards there instead.
struct UserBaseUrl {
  std::string provider;   // openai | anthropic | gemini
  std::string variable;   // e.g. OPENAI_BASE_URL
  std::string upstream;   // what `--upstream provider=` gets
  std::string route_suffix;  // path kept after the gateway route (OpenAI's "/v1")
};

// Base-URL variables the gateway mode sets, per provider. The first variable of each provider is the
// one its official SDK reads.
struct GatewayVariable {
  const char* provider;
  const char* variable;
  const char* default_suffix;  // appended to http://ADDR/<provider> when the user set nothing
};
const std::vector<GatewayVariable>& gateway_variables();

// Base URLs present in USER (non-empty, http:// or https://), one per provider (first variable wins).
std::vector<UserBaseUrl> user_base_urls(const EnvMap& user);

// The child's environment for MODES. USER is the environment llmtap was started with.
RunEnvironment build_run_environment(const EnvMap& user, const RunEndpoints& endpoints, CaptureModes modes);

// Path of the bundle extending USER_FILE with llmtap's CA (stable per user file).
std::string extended_bundle_path(const std::string& bundle_dir, const std::string& user_file);

// Writes each bundle (atomically, mode 0644). Returns "" or an error message.
std::string write_ca_bundles(const std::vector<BundleSpec>& bundles);

}  // namespace llmtap::cli
