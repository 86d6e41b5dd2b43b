// `llmtap ca path | bundle-path | regenerate [--data-dir DIR]`: the local CA that signs the leaf
// certificates of intercepted provider connections.
#include <cstdio>
#include <string>
#include <vector>

#include "cli/command.h"
#include "common/data_dir.h"
#include "proxy/certificate_authority.h"

namespace llmtap::cli {
namespace {

constexpr const char* kHelp =
    "Usage: llmtap ca path | bundle-path | regenerate [--data-dir DIR]\n\n"
    "The local certificate authority llmtap uses to intercept HTTPS to model providers (created on\n"
    "first use in the data directory; the key is mode 0600).\n\n"
    "  path         print the CA certificate path (trust it: e.g. NODE_EXTRA_CA_CERTS, curl --cacert)\n"
    "  bundle-path  print a bundle of the system roots plus the CA, for variables that replace the\n"
    "               trust store (SSL_CERT_FILE, REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE)\n"
    "  regenerate   replace the CA with a new key pair (clients must trust the new certificate)\n\n"
    "  --data-dir DIR  data directory (default: $LLMTAP_DATA_DIR, else $XDG_DATA_HOME/llmtap,\n"
    "                  else ~/.local/share/llmtap)\n";

int run_ca(const std::vector<std::string>& args) {
  std::string action, dir;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      std::fputs(kHelp, stdout);
      return 0;
    } else if (a == "--data-dir") {
      if (i + 1 >= args.size()) {
        std::fprintf(stderr, "llmtap ca: --data-dir needs a directory\n");
        return 2;
      }
      dir = args[++i];
    } else if (a.rfind("--data-dir=", 0) == 0) {
      dir = a.substr(11);
    } else if (action.empty() && (a == "path" || a == "bundle-path" || a == "regenerate")) {
      action = a;
    } else {
      std::fprintf(stderr, "llmtap ca: unexpected argument '%s'\n%s", a.c_str(), kHelp);
      return 2;
    }
  }
  if (action.empty()) {
    std::fprintf(stderr, "llmtap ca: missing action\n%s", kHelp);
    return 2;
  }
  if (dir.empty()) dir = default_data_dir();
  std::string error;
  // regenerate also recovers from unreadable CA files, so it does not load the old CA first.
  auto ca = action == "regenerate" ? proxy::CertificateAuthority::create_fresh(dir, &error)
                                   : proxy::CertificateAuthority::load_or_create(dir, &error);
  if (!ca) {
    std::fprintf(stderr, "llmtap ca: %s\n", error.c_str());
    return 1;
  }
  if (action == "path") {
    std::printf("%s\n", ca->ca_cert_path().c_str());
  } else if (action == "bundle-path") {
    std::printf("%s\n", ca->bundle_path().c_str());
  } else {
    std::printf("%s\n", ca->ca_cert_path().c_str());
    std::fprintf(stderr, "llmtap ca: new CA written; clients must trust the new certificate, and running proxies "
                         "must be restarted.\n");
  }
  return 0;
}

CommandRegistration reg({"ca", "local CA for HTTPS interception: path, bundle-path, regenerate", &run_ca});

}  // namespace
}  // namespace llmtap::cli
