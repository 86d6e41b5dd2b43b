#include "proxy/proxy_auth.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include <gtest/gtest.h>

namespace llmtap::proxy {
namespace {

const std::string kCred = "0123456789abcdef0123456789abcdef";

TEST(ProxyAuth, BasicCredentialAnyUser) {
  EXPECT_TRUE(proxy_authorization_matches("Basic bGxtdGFwOjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVm", kCred));
  EXPECT_TRUE(proxy_authorization_matches("  basic   OjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVm ", kCred));  // ":cred"
  EXPECT_FALSE(proxy_authorization_matches("Basic bGxtdGFwOndyb25n", kCred));  // llmtap:wrong
  EXPECT_FALSE(proxy_authorization_matches("Bearer " + kCred, kCred));
  EXPECT_FALSE(proxy_authorization_matches("Basic", kCred));
  EXPECT_FALSE(proxy_authorization_matches("Basic !!!!", kCred));
  EXPECT_FALSE(proxy_authorization_matches("Basic bGxtdGFwOg==", kCred));  // "llmtap:" (empty password)
  EXPECT_FALSE(proxy_authorization_matches("Basic bGxtdGFwOg==", ""));
}

TEST(ProxyAuth, GatewayTokenSegment) {
  // The result views into the target: keep it alive while the views are read.
  const std::string target = "/t/" + kCred + "/openai/v1/chat/completions";
  auto g = parse_gateway_target(target, kCred);
  EXPECT_EQ(g.token, GatewayToken::kOk);
  EXPECT_EQ(g.rest, "/openai/v1/chat/completions");
  EXPECT_EQ(g.strip_length, 3 + kCred.size());
  std::string t = "/t/" + kCred + "?x=1";
  EXPECT_EQ(parse_gateway_target(t, kCred).rest, "?x=1");
  EXPECT_EQ(parse_gateway_target("/t/nope/openai/v1", kCred).token, GatewayToken::kWrong);
  EXPECT_EQ(parse_gateway_target("/t//openai", kCred).token, GatewayToken::kWrong);
  auto missing = parse_gateway_target("/openai/v1/chat/completions", kCred);
  EXPECT_EQ(missing.token, GatewayToken::kMissing);
  EXPECT_EQ(missing.rest, "/openai/v1/chat/completions");
}

TEST(ProxyAuth, Urls) {
  EXPECT_EQ(proxy_url_with_credential("127.0.0.1:8080", "c"), "http://llmtap:c@127.0.0.1:8080");
  EXPECT_EQ(gateway_base_with_credential("127.0.0.1:8080", "c"), "http://127.0.0.1:8080/t/c");
  EXPECT_EQ(proxy_url_with_credential("127.0.0.1:8080", ""), "http://127.0.0.1:8080");
}

TEST(ProxyAuth, CredentialFileIsCreatedPrivateAndReused) {
  char tmpl[] = "/tmp/llmtap-auth-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  std::string cred, path, again, path2;
  ASSERT_EQ(load_or_create_credential(dir, &cred, &path), "");
  EXPECT_EQ(path, dir + "/proxy-credential");
  EXPECT_EQ(cred.size(), 32u);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(load_or_create_credential(dir, &again, &path2), "");
  EXPECT_EQ(again, cred);

  ::chmod(path.c_str(), 0644);
  std::string e = load_or_create_credential(dir, &again, &path2);
  EXPECT_NE(e.find("chmod 600 " + path), std::string::npos) << e;
  ::unlink(path.c_str());
  ASSERT_EQ(::symlink("/etc/passwd", path.c_str()), 0);
  e = load_or_create_credential(dir, &again, &path2);
  EXPECT_NE(e.find("symbolic link"), std::string::npos) << e;
  ::unlink(path.c_str());
  ::rmdir(dir.c_str());
}

}  // namespace
}  // namespace llmtap::proxy
