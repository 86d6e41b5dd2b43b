#pragma once
// llmtap's local certificate authority: a CA key pair kept in the data directory (key mode 0600) and
// per-host leaf certificates signed by it, for terminating TLS of intercepted provider connections.
#include <openssl/types.h>

#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace llmtap::proxy {

// A leaf certificate and its key, shared by every TLS session for one host.
struct LeafCertificate {
  X509* cert = nullptr;      // owned
  EVP_PKEY* key = nullptr;   // owned (one key shared by all leaves of a CA; ref-counted)
  LeafCertificate() = default;
  LeafCertificate(const LeafCertificate&) = delete;
  LeafCertificate& operator=(const LeafCertificate&) = delete;
  ~LeafCertificate();
};

class CertificateAuthority {
 public:
  static constexpr std::size_t kDefaultLeafCacheSize = 1024;

  // Loads the CA from DIR (ca.pem, ca-key.pem), creating DIR and a new CA if missing. Writes the
  // combined bundle (system roots + CA). Returns nullptr and sets *error on failure. DIR must pass
  // check_private_dir(); the files are read only if they are regular files (no symlinks) owned by
  // this user, the key with no group/other bits and the certificate not group/other-writable.
  static std::shared_ptr<CertificateAuthority> load_or_create(const std::string& dir, std::string* error,
                                                              std::size_t leaf_cache_size = kDefaultLeafCacheSize);
  // Always makes a new CA in DIR, replacing whatever is there (also when it is unreadable).
  static std::shared_ptr<CertificateAuthority> create_fresh(const std::string& dir, std::string* error,
                                                            std::size_t leaf_cache_size = kDefaultLeafCacheSize);
  ~CertificateAuthority();
  CertificateAuthority(const CertificateAuthority&) = delete;
  CertificateAuthority& operator=(const CertificateAuthority&) = delete;

  std::string ca_cert_path() const { return dir_ + "/ca.pem"; }
  std::string ca_key_path() const { return dir_ + "/ca-key.pem"; }
  // System roots followed by the llmtap CA, for SSL_CERT_FILE-style variables that replace the store.
  std::string bundle_path() const { return dir_ + "/ca-bundle.pem"; }

  // Leaf certificate for HOST (a DNS name or an IP literal), from the bounded LRU cache or freshly
  // signed. Thread-safe. Returns nullptr and sets *error on failure.
  std::shared_ptr<const LeafCertificate> leaf_for(const std::string& host, std::string* error = nullptr);
  X509* ca_cert() const { return ca_cert_; }

  // Replaces the CA with a new one (new key), rewrites the bundle, drops cached leaves.
  bool regenerate(std::string* error);

  std::size_t cached_leaf_count() const;

 private:
  CertificateAuthority(std::string dir, std::size_t cache_size) : dir_(std::move(dir)), cache_size_(cache_size) {}
  static std::shared_ptr<CertificateAuthority> open(const std::string& dir, std::string* error,
                                                    std::size_t leaf_cache_size, bool fresh);
  bool load(std::string* error);
  bool create(std::string* error);
  bool write_bundle(std::string* error) const;
  std::shared_ptr<const LeafCertificate> sign_leaf(const std::string& host, std::string* error);

  std::string dir_;
  std::size_t cache_size_;
  X509* ca_cert_ = nullptr;
  EVP_PKEY* ca_key_ = nullptr;
  EVP_PKEY* leaf_key_ = nullptr;  // generated once per process: key generation is the costly part

  mutable std::mutex mu_;  // guards the cache and the CA objects (taken only at TLS handshakes)
  std::list<std::string> lru_;  // most recent first
  struct Entry {
    std::shared_ptr<const LeafCertificate> leaf;
    std::list<std::string>::iterator pos;
  };
  std::unordered_map<std::string, Entry> cache_;
};

}  // namespace llmtap::proxy
