#include "common/user_id_hash.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>

namespace llmtap {
namespace {

TEST(UserIdHash, KeyedStableAndShort) {
  std::string a = hash_user_id("salt-1", "alice@example.com");
  EXPECT_EQ(a, hash_user_id("salt-1", "alice@example.com"));
  EXPECT_NE(a, hash_user_id("salt-2", "alice@example.com"));
  EXPECT_NE(a, hash_user_id("salt-1", "bob@example.com"));
  EXPECT_EQ(a.size(), 34u);
  EXPECT_EQ(a.rfind("h_", 0), 0u);
  EXPECT_EQ(a.find("alice"), std::string::npos);
  // RFC 4231 test case 2 (key "Jefe"), first 16 bytes.
  EXPECT_EQ(hash_user_id("Jefe", "what do ya want for nothing?"), "h_5bdcc146bf60754e6a042426089575c7");
}

TEST(UserIdHash, SaltIsPrivateAndStablePerDataDirectory) {
  char tmpl[] = "/tmp/llmtap-salt-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  std::string error;
  std::string salt = load_or_create_user_id_salt(dir, &error);
  ASSERT_EQ(salt.size(), 64u) << error;
  struct stat st {};
  ASSERT_EQ(::stat((dir + "/user-id-salt").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(load_or_create_user_id_salt(dir, &error), salt);

  char tmpl2[] = "/tmp/llmtap-salt-XXXXXX";
  std::string other = ::mkdtemp(tmpl2);
  EXPECT_NE(load_or_create_user_id_salt(other, &error), salt);  // random per directory
  std::filesystem::remove_all(dir);
  std::filesystem::remove_all(other);
  EXPECT_EQ(load_or_create_user_id_salt("/nonexistent/dir", &error), "");
  EXPECT_NE(error.find("/nonexistent/dir"), std::string::npos);
}

}  // namespace
}  // namespace llmtap
