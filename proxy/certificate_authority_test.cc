#include "proxy/certificate_authority.h"

#include <gtest/gtest.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace llmtap::proxy {
namespace {

namespace fs = std::filesystem;

class CaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "llmtap-ca-test-XXXXXX").string();
    dir_ = mkdtemp(tmpl.data());
    dir_ += "/data";  // not yet existing: load_or_create makes it
  }
  void TearDown() override { fs::remove_all(fs::path(dir_).parent_path()); }
  std::string dir_;
};

bool verifies(X509* leaf, X509* ca, const char* host, bool ip) {
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, ca);
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, leaf, nullptr);
  X509_VERIFY_PARAM* p = X509_STORE_CTX_get0_param(ctx);
  X509_VERIFY_PARAM_set_purpose(p, X509_PURPOSE_SSL_SERVER);
  if (ip) X509_VERIFY_PARAM_set1_ip_asc(p, host);
  else X509_VERIFY_PARAM_set1_host(p, host, 0);
  bool ok = X509_verify_cert(ctx) == 1;
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  return ok;
}

TEST_F(CaTest, CreatesPrivateKeyAndProperCa) {
  std::string err;
  auto ca = CertificateAuthority::load_or_create(dir_, &err);
  ASSERT_TRUE(ca) << err;
  struct stat st {};
  ASSERT_EQ(::stat(ca->ca_key_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(dir_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 077, 0u);
  X509* cert = ca->ca_cert();
  EXPECT_EQ(X509_check_ca(cert), 1);
  int crit = 0;
  auto* bc = static_cast<BASIC_CONSTRAINTS*>(X509_get_ext_d2i(cert, NID_basic_constraints, &crit, nullptr));
  ASSERT_TRUE(bc);
  EXPECT_TRUE(bc->ca);
  EXPECT_EQ(crit, 1);
  BASIC_CONSTRAINTS_free(bc);
  EXPECT_TRUE(X509_get_key_usage(cert) & KU_KEY_CERT_SIGN);
  EXPECT_TRUE(X509_get_key_usage(cert) & KU_CRL_SIGN);
  EXPECT_NE(X509_get0_subject_key_id(cert), nullptr);
  EXPECT_NE(X509_get0_authority_key_id(cert), nullptr);
  EXPECT_TRUE(fs::file_size(ca->bundle_path()) > fs::file_size(ca->ca_cert_path()) ||
              fs::file_size(ca->bundle_path()) == fs::file_size(ca->ca_cert_path()));
}

TEST_F(CaTest, ReloadsTheSameCa) {
  std::string err;
  auto a = CertificateAuthority::load_or_create(dir_, &err);
  ASSERT_TRUE(a) << err;
  auto b = CertificateAuthority::load_or_create(dir_, &err);
  ASSERT_TRUE(b) << err;
  EXPECT_EQ(X509_cmp(a->ca_cert(), b->ca_cert()), 0);
}

TEST_F(CaTest, LeavesVerifyWithSanAndServerAuth) {
  std::string err;
  auto ca = CertificateAuthority::load_or_create(dir_, &err);
  ASSERT_TRUE(ca) << err;
  auto leaf = ca->leaf_for("api.openai.com", &err);
  ASSERT_TRUE(leaf) << err;
  EXPECT_TRUE(verifies(leaf->cert, ca->ca_cert(), "api.openai.com", false));
  EXPECT_FALSE(verifies(leaf->cert, ca->ca_cert(), "api.anthropic.com", false));
  EXPECT_TRUE(X509_get_extended_key_usage(leaf->cert) & XKU_SSL_SERVER);
  EXPECT_EQ(X509_check_ca(leaf->cert), 0);
  auto ip = ca->leaf_for("127.0.0.1", &err);
  ASSERT_TRUE(ip) << err;
  EXPECT_TRUE(verifies(ip->cert, ca->ca_cert(), "127.0.0.1", true));
  auto v6 = ca->leaf_for("[::1]", &err);
  ASSERT_TRUE(v6) << err;
  EXPECT_TRUE(verifies(v6->cert, ca->ca_cert(), "::1", true));
  EXPECT_FALSE(ca->leaf_for("evil.com,DNS:api.openai.com", &err));
}

TEST_F(CaTest, LeafCacheIsBoundedLru) {
  std::string err;
  auto ca = CertificateAuthority::load_or_create(dir_, &err, 2);
  ASSERT_TRUE(ca) << err;
  auto a = ca->leaf_for("a.example", &err);
  EXPECT_EQ(ca->leaf_for("a.example", &err), a);  // cached
  ca->leaf_for("b.example", &err);
  ca->leaf_for("a.example", &err);  // a is now most recent
  ca->leaf_for("c.example", &err);  // evicts b
  EXPECT_EQ(ca->cached_leaf_count(), 2u);
  EXPECT_EQ(ca->leaf_for("a.example", &err), a);
}

TEST_F(CaTest, RegenerateReplacesCa) {
  std::string err;
  auto ca = CertificateAuthority::load_or_create(dir_, &err);
  ASSERT_TRUE(ca) << err;
  X509* old = X509_dup(ca->ca_cert());
  auto leaf = ca->leaf_for("api.openai.com", &err);
  ASSERT_TRUE(ca->regenerate(&err)) << err;
  EXPECT_NE(X509_cmp(old, ca->ca_cert()), 0);
  EXPECT_EQ(ca->cached_leaf_count(), 0u);
  auto fresh = ca->leaf_for("api.openai.com", &err);
  EXPECT_TRUE(verifies(fresh->cert, ca->ca_cert(), "api.openai.com", false));
  EXPECT_FALSE(verifies(leaf->cert, ca->ca_cert(), "api.openai.com", false));
  X509_free(old);
}

TEST_F(CaTest, CorruptFilesGiveClearError) {
  std::string err;
  ASSERT_TRUE(CertificateAuthority::load_or_create(dir_, &err)) << err;
  FILE* f = std::fopen((dir_ + "/ca.pem").c_str(), "w");
  std::fputs("garbage", f);
  std::fclose(f);
  EXPECT_FALSE(CertificateAuthority::load_or_create(dir_, &err));
  EXPECT_NE(err.find("regenerate"), std::string::npos) << err;
  auto fresh = CertificateAuthority::create_fresh(dir_, &err);  // what `llmtap ca regenerate` does
  ASSERT_TRUE(fresh) << err;
  EXPECT_TRUE(CertificateAuthority::load_or_create(dir_, &err)) << err;
}

std::string slurp(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Another user's CA must never be loaded (nor end up in ca-bundle.pem).
TEST_F(CaTest, RefusesAPreCreatedWorldWritableDirectory) {
  std::string err;
  std::string planted = fs::path(dir_).parent_path().string() + "/attacker";
  ASSERT_TRUE(CertificateAuthority::load_or_create(planted, &err)) << err;  // "their" CA
  fs::create_directory(dir_);
  fs::permissions(dir_, fs::perms::all);  // 0777
  fs::copy_file(planted + "/ca.pem", dir_ + "/ca.pem");
  fs::copy_file(planted + "/ca-key.pem", dir_ + "/ca-key.pem");
  EXPECT_FALSE(CertificateAuthority::load_or_create(dir_, &err));
  EXPECT_NE(err.find("chmod 700"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(dir_ + "/ca-bundle.pem"));
}

TEST_F(CaTest, RefusesCaFilesOthersOwnOrCanRead) {
  std::string err;
  ASSERT_TRUE(CertificateAuthority::load_or_create(dir_, &err)) << err;
  // A key others could read may have leaked: refused (no longer just a warning and a chmod).
  ::chmod((dir_ + "/ca-key.pem").c_str(), 0644);
  EXPECT_FALSE(CertificateAuthority::load_or_create(dir_, &err));
  EXPECT_NE(err.find("mode 0644"), std::string::npos) << err;
  EXPECT_NE(err.find("llmtap ca regenerate"), std::string::npos) << err;
  ::chmod((dir_ + "/ca-key.pem").c_str(), 0600);
  ::chmod((dir_ + "/ca.pem").c_str(), 0666);  // anyone could have swapped the certificate
  EXPECT_FALSE(CertificateAuthority::load_or_create(dir_, &err));
  ::chmod((dir_ + "/ca.pem").c_str(), 0644);
  ASSERT_TRUE(CertificateAuthority::load_or_create(dir_, &err)) << err;
  if (::geteuid() == 0) {
    ASSERT_EQ(::chown((dir_ + "/ca.pem").c_str(), 65534, 65534), 0);
    EXPECT_FALSE(CertificateAuthority::load_or_create(dir_, &err));
    EXPECT_NE(err.find("owned by uid 65534"), std::string::npos) << err;
  }
  // The named fix works.
  ASSERT_TRUE(CertificateAuthority::create_fresh(dir_, &err)) << err;
  EXPECT_TRUE(CertificateAuthority::load_or_create(dir_, &err)) << err;
}

TEST_F(CaTest, RefusesASymlinkedCaFile) {
  std::string err;
  ASSERT_TRUE(CertificateAuthority::load_or_create(dir_, &err)) << err;
  std::string elsewhere = fs::path(dir_).parent_path().string() + "/elsewhere.pem";
  fs::rename(dir_ + "/ca.pem", elsewhere);
  fs::create_symlink(elsewhere, dir_ + "/ca.pem");
  EXPECT_FALSE(CertificateAuthority::load_or_create(dir_, &err));
  EXPECT_NE(err.find("symbolic link"), std::string::npos) << err;
}

// A symlink where the bundle's temporary file goes, or at the bundle itself, must not redirect
// the write: the link's target keeps its content and mode.
TEST_F(CaTest, BundleWriteNeverFollowsASymlink) {
  std::string err;
  ASSERT_TRUE(CertificateAuthority::load_or_create(dir_, &err)) << err;
  std::string victim = fs::path(dir_).parent_path().string() + "/victim";
  {
    std::ofstream(victim) << "root-only secret";
  }
  ::chmod(victim.c_str(), 0600);
  fs::create_symlink(victim, dir_ + "/ca-bundle.pem.tmp." + std::to_string(::getpid()));  // the old temp name
  fs::remove(dir_ + "/ca-bundle.pem");
  fs::create_symlink(victim, dir_ + "/ca-bundle.pem");
  auto ca = CertificateAuthority::load_or_create(dir_, &err);
  ASSERT_TRUE(ca) << err;
  EXPECT_EQ(slurp(victim), "root-only secret");
  struct stat st {};
  ASSERT_EQ(::stat(victim.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::lstat(ca->bundle_path().c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_NE(slurp(ca->bundle_path()).find("BEGIN CERTIFICATE"), std::string::npos);
}

}  // namespace
}  // namespace llmtap::proxy
