#include "proxy/certificate_authority.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "common/data_dir.h"

namespace llmtap::proxy {
namespace {

constexpr long kDaySeconds = 24 * 60 * 60;
constexpr long kCaValidityDays = 3650;
constexpr long kLeafValidityDays = 365;  // under the 398-day ceiling clients enforce for leaves

std::string openssl_error(const char* what) {
  unsigned long e = ERR_get_error();
  char buf[256] = {0};
  if (e) ERR_error_string_n(e, buf, sizeof(buf));
  ERR_clear_error();
  return std::string(what) + (e ? std::string(": ") + buf : std::string());
}

bool is_ip_literal(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

// Hosts go into an extension config string: allow only characters that cannot inject extra entries.
bool is_safe_host(const std::string& host) {
  if (host.empty() || host.size() > 253) return false;
  for (char c : host) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '-' || c == '_' || c == ':' || c == '*';
    if (!ok) return false;
  }
  return true;
}

bool add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (!ext) return false;
  int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return ok == 1;
}

bool set_random_serial(X509* cert) {
  BIGNUM* bn = BN_new();
  bool ok = bn && BN_rand(bn, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1 &&
            BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != nullptr;
  BN_free(bn);
  return ok;
}

bool set_name(X509_NAME* name, const std::string& cn, const char* org) {
  std::string short_cn = cn.substr(0, 64);  // CN is limited to 64 characters; the SAN carries the host
  return X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(org), -1, -1,
                                    0) == 1 &&
         X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                    reinterpret_cast<const unsigned char*>(short_cn.c_str()), -1, -1, 0) == 1;
}

// Writes CONTENT-producing callback to PATH atomically (temp file + rename) with MODE, created under
// umask 077 so a private key is never readable by others, not even for an instant.
template <class WriteFn>
bool write_file_atomic(const std::string& path, mode_t mode, WriteFn write, std::string* error) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  mode_t old_mask = ::umask(077);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  ::umask(old_mask);
  if (fd < 0) {
    *error = "cannot create " + tmp + ": " + std::strerror(errno);
    return false;
  }
  FILE* f = ::fdopen(fd, "w");
  if (!f) {
    ::close(fd);
    *error = "fdopen failed";
    return false;
  }
  // Keep the first OS reason: the error must say why (a full disk, a read-only mount), not just where.
  int err = 0;
  auto step = [&](bool ok) {
    if (!ok && err == 0) err = errno ? errno : EIO;
    return ok;
  };
  errno = 0;
  bool ok = step(write(f));
  ok = step(std::fflush(f) == 0) && ok;
  ok = step(::fchmod(fd, mode) == 0) && ok;
  ok = step(::fsync(fd) == 0) && ok;
  ok = step(std::fclose(f) == 0) && ok;
  if (ok && ::rename(tmp.c_str(), path.c_str()) != 0) ok = step(false);
  if (!ok) {
    ::unlink(tmp.c_str());
    *error = "cannot write " + path + ": " + std::strerror(err);
    return false;
  }
  return true;
}

}  // namespace

LeafCertificate::~LeafCertificate() {
  X509_free(cert);
  EVP_PKEY_free(key);
}

std::shared_ptr<CertificateAuthority> CertificateAuthority::load_or_create(const std::string& dir, std::string* error,
                                                                           std::size_t leaf_cache_size) {
  return open(dir, error, leaf_cache_size, false);
}

std::shared_ptr<CertificateAuthority> CertificateAuthority::create_fresh(const std::string& dir, std::string* error,
                                                                         std::size_t leaf_cache_size) {
  return open(dir, error, leaf_cache_size, true);
}

std::shared_ptr<CertificateAuthority> CertificateAuthority::open(const std::string& dir, std::string* error,
                                                                 std::size_t leaf_cache_size, bool fresh) {
  std::string err;
  if (std::string e = ensure_private_dir(dir); !e.empty()) {
    if (error) *error = e;
    return nullptr;
  }
  std::shared_ptr<CertificateAuthority> ca(new CertificateAuthority(dir, leaf_cache_size ? leaf_cache_size : 1));
  struct stat st {};
  bool have_files = ::stat(ca->ca_cert_path().c_str(), &st) == 0 && ::stat(ca->ca_key_path().c_str(), &st) == 0;
  bool ok = have_files && !fresh ? ca->load(&err) : ca->create(&err);
  if (ok) ok = ca->write_bundle(&err);
  if (ok) {
    ca->leaf_key_ = EVP_EC_gen("P-256");
    if (!ca->leaf_key_) {
      ok = false;
      err = openssl_error("leaf key generation failed");
    }
  }
  if (!ok) {
    if (error) *error = err;
    return nullptr;
  }
  return ca;
}

CertificateAuthority::~CertificateAuthority() {
  X509_free(ca_cert_);
  EVP_PKEY_free(ca_key_);
  EVP_PKEY_free(leaf_key_);
}

bool CertificateAuthority::load(std::string* error) {
  FILE* cf = std::fopen(ca_cert_path().c_str(), "r");
  if (!cf) {
    *error = "cannot open " + ca_cert_path() + ": " + std::strerror(errno);
    return false;
  }
  ca_cert_ = PEM_read_X509(cf, nullptr, nullptr, nullptr);
  std::fclose(cf);
  struct stat st {};
  if (::stat(ca_key_path().c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    spdlog::warn("CA key {} was readable by others; restricting it to mode 0600", ca_key_path());
    ::chmod(ca_key_path().c_str(), 0600);
  }
  FILE* kf = std::fopen(ca_key_path().c_str(), "r");
  if (!kf) {
    *error = "cannot open " + ca_key_path() + ": " + std::strerror(errno);
    return false;
  }
  ca_key_ = PEM_read_PrivateKey(kf, nullptr, nullptr, nullptr);
  std::fclose(kf);
  if (!ca_cert_ || !ca_key_) {
    *error = openssl_error(("cannot parse CA files in " + dir_ + " (run `llmtap ca regenerate`)").c_str());
    return false;
  }
  if (X509_check_private_key(ca_cert_, ca_key_) != 1 || X509_check_ca(ca_cert_) == 0) {
    *error = "CA certificate and key in " + dir_ + " do not match or are not a CA (run `llmtap ca regenerate`)";
    ERR_clear_error();
    return false;
  }
  return true;
}

bool CertificateAuthority::create(std::string* error) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  bool ok = key && cert && X509_set_version(cert, 2) == 1 && set_random_serial(cert) &&
            X509_gmtime_adj(X509_getm_notBefore(cert), -kDaySeconds) &&
            X509_gmtime_adj(X509_getm_notAfter(cert), kCaValidityDays * kDaySeconds) &&
            set_name(X509_get_subject_name(cert), "llmtap local CA", "llmtap") &&
            X509_set_issuer_name(cert, X509_get_subject_name(cert)) == 1 && X509_set_pubkey(cert, key) == 1 &&
            add_ext(cert, cert, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") &&
            add_ext(cert, cert, NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature") &&
            add_ext(cert, cert, NID_subject_key_identifier, "hash") &&
            add_ext(cert, cert, NID_authority_key_identifier, "keyid:always") &&
            X509_sign(cert, key, EVP_sha256()) > 0;
  if (!ok) {
    *error = openssl_error("CA creation failed");
    EVP_PKEY_free(key);
    X509_free(cert);
    return false;
  }
  // Key first: a certificate without its key would be unusable.
  ok = write_file_atomic(
           ca_key_path(), 0600,
           [&](FILE* f) { return PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr) == 1; }, error) &&
       write_file_atomic(ca_cert_path(), 0644, [&](FILE* f) { return PEM_write_X509(f, cert) == 1; }, error);
  if (!ok) {
    EVP_PKEY_free(key);
    X509_free(cert);
    return false;
  }
  X509_free(ca_cert_);
  EVP_PKEY_free(ca_key_);
  ca_cert_ = cert;
  ca_key_ = key;
  spdlog::info("created llmtap CA at {}", ca_cert_path());
  return true;
}

bool CertificateAuthority::write_bundle(std::string* error) const {
  std::string roots;
  const char* env_file = X509_get_default_cert_file();
  if (std::ifstream in(env_file, std::ios::binary); in) {
    std::ostringstream ss;
    ss << in.rdbuf();
    roots = ss.str();
    if (!roots.empty() && roots.back() != '\n') roots.push_back('\n');
  } else {
    spdlog::warn("no system CA file at {}; the bundle holds only the llmtap CA", env_file);
  }
  return write_file_atomic(
      bundle_path(), 0644,
      [&](FILE* f) {
        return std::fwrite(roots.data(), 1, roots.size(), f) == roots.size() && PEM_write_X509(f, ca_cert_) == 1;
      },
      error);
}

bool CertificateAuthority::regenerate(std::string* error) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!create(error) || !write_bundle(error)) return false;
  cache_.clear();
  lru_.clear();
  return true;
}

std::size_t CertificateAuthority::cached_leaf_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cache_.size();
}

std::shared_ptr<const LeafCertificate> CertificateAuthority::leaf_for(const std::string& host_in, std::string* error) {
  std::string host = host_in;
  for (auto& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = cache_.find(host); it != cache_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second.pos);
    return it->second.leaf;
  }
  std::string err;
  auto leaf = sign_leaf(host, &err);
  if (!leaf) {
    if (error) *error = err;
    return nullptr;
  }
  lru_.push_front(host);
  cache_[host] = Entry{leaf, lru_.begin()};
  while (cache_.size() > cache_size_) {
    cache_.erase(lru_.back());
    lru_.pop_back();
  }
  return leaf;
}

std::shared_ptr<const LeafCertificate> CertificateAuthority::sign_leaf(const std::string& host, std::string* error) {
  if (!is_safe_host(host)) {
    *error = "refusing to issue a certificate for an invalid host name";
    return nullptr;
  }
  auto leaf = std::make_shared<LeafCertificate>();
  leaf->cert = X509_new();
  EVP_PKEY_up_ref(leaf_key_);
  leaf->key = leaf_key_;
  X509* cert = leaf->cert;
  std::string san = (is_ip_literal(host) ? "IP:" : "DNS:") + host;
  bool ok = cert && X509_set_version(cert, 2) == 1 && set_random_serial(cert) &&
            X509_gmtime_adj(X509_getm_notBefore(cert), -kDaySeconds) &&
            X509_gmtime_adj(X509_getm_notAfter(cert), kLeafValidityDays * kDaySeconds) &&
            set_name(X509_get_subject_name(cert), host, "llmtap") &&
            X509_set_issuer_name(cert, X509_get_subject_name(ca_cert_)) == 1 && X509_set_pubkey(cert, leaf_key_) == 1 &&
            add_ext(cert, ca_cert_, NID_basic_constraints, "critical,CA:FALSE") &&
            add_ext(cert, ca_cert_, NID_key_usage, "critical,digitalSignature") &&
            add_ext(cert, ca_cert_, NID_ext_key_usage, "serverAuth") &&
            add_ext(cert, ca_cert_, NID_subject_key_identifier, "hash") &&
            add_ext(cert, ca_cert_, NID_authority_key_identifier, "keyid:always") &&
            add_ext(cert, ca_cert_, NID_subject_alt_name, san) && X509_sign(cert, ca_key_, EVP_sha256()) > 0;
  if (!ok) {
    *error = openssl_error("leaf certificate signing failed");
    return nullptr;
  }
  return leaf;
}

}  // namespace llmtap::proxy
