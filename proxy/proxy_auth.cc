#include "proxy/proxy_auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cctype>
#include <vector>

#include "common/data_dir.h"

namespace llmtap::proxy {
namespace {

std::string random_credential() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return {};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 0xF];
  }
  return out;
}

bool iequals_prefix(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  return true;
}

}  // namespace

bool secret_equals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && !a.empty() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string load_or_create_credential(const std::string& data_dir, std::string* credential, std::string* path) {
  *path = data_dir + "/" + std::string(kCredentialFileName);
  if (std::string e = ensure_private_dir(data_dir); !e.empty()) return "data directory: " + e;
  std::string e = load_or_create_secret_file(*path, &random_credential, credential);
  if (!e.empty()) return "proxy credential: " + e;
  if (credential->empty()) return "proxy credential: no random bytes available";
  for (char c : *credential)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.')
      return "proxy credential: " + *path + " holds characters a URL cannot carry; remove it (llmtap creates a new one)";
  return "";
}

bool proxy_authorization_matches(std::string_view v, std::string_view credential) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  if (!iequals_prefix(v, "basic") || v.size() < 6 || (v[5] != ' ' && v[5] != '\t')) return false;
  v.remove_prefix(6);
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  if (v.empty() || v.size() > 1024 || v.size() % 4 != 0) return false;
  std::vector<unsigned char> decoded(v.size() / 4 * 3 + 1);
  int n = EVP_DecodeBlock(decoded.data(), reinterpret_cast<const unsigned char*>(v.data()), static_cast<int>(v.size()));
  if (n < 0) return false;
  // EVP_DecodeBlock counts padding as zero bytes.
  for (std::size_t i = v.size(); i > 0 && v[i - 1] == '='; --i) --n;
  std::string_view user_pass(reinterpret_cast<const char*>(decoded.data()), static_cast<std::size_t>(n));
  auto colon = user_pass.find(':');
  if (colon == std::string_view::npos) return false;
  return secret_equals(user_pass.substr(colon + 1), credential);
}

GatewayTarget parse_gateway_target(std::string_view target, std::string_view credential) {
  GatewayTarget out;
  out.rest = target;
  if (target.substr(0, kGatewayTokenPrefix.size()) != kGatewayTokenPrefix) return out;
  std::string_view after = target.substr(kGatewayTokenPrefix.size());
  std::size_t end = after.find_first_of("/?");
  std::string_view token = after.substr(0, end);
  out.strip_offset = 0;
  out.strip_length = kGatewayTokenPrefix.size() + token.size();
  out.rest = end == std::string_view::npos ? std::string_view("/") : after.substr(end);
  out.token = secret_equals(token, credential) ? GatewayToken::kOk : GatewayToken::kWrong;
  return out;
}

std::string proxy_url_with_credential(std::string_view address, std::string_view credential) {
  if (credential.empty()) return "http://" + std::string(address);
  return "http://" + std::string(kCredentialUser) + ":" + std::string(credential) + "@" + std::string(address);
}

std::string gateway_base_with_credential(std::string_view address, std::string_view credential) {
  if (credential.empty()) return "http://" + std::string(address);
  return "http://" + std::string(address) + std::string(kGatewayTokenPrefix) + std::string(credential);
}

}  // namespace llmtap::proxy
