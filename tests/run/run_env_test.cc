// Unit tests of `llmtap run`'s environment rules (cli/run_env.cc).
#include "cli/run_env.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace llmtap::cli {
namespace {

RunEndpoints endpoints() {
  RunEndpoints ep;
  ep.proxy_address = "127.0.0.1:4567";
  ep.ca_cert_path = "/data/ca.pem";
  ep.ca_bundle_path = "/data/ca-bundle.pem";
  ep.collector_socket = "/data/collector.sock";
  ep.preload_library = "/opt/llmtap/libllmtap_preload.so";
  ep.bundle_dir = "/data";
  return ep;
}

std::string at(const EnvMap& env, const std::string& k) {
  auto it = env.find(k);
  return it == env.end() ? "<unset>" : it->second;
}

TEST(RunEnv, ProxyModeSetsProxyAndTrustVariables) {
  EnvMap user = {{"PATH", "/usr/bin"}, {"HOME", "/root"}};
  auto r = build_run_environment(user, endpoints(), {.proxy = true});
  for (const char* k : {"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"})
    EXPECT_EQ(at(r.env, k), "http://127.0.0.1:4567") << k;
  EXPECT_EQ(at(r.env, "NODE_USE_ENV_PROXY"), "1");
  EXPECT_EQ(at(r.env, "NODE_EXTRA_CA_CERTS"), "/data/ca.pem");
  for (const char* k : {"SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"})
    EXPECT_EQ(at(r.env, k), "/data/ca-bundle.pem") << k;
  // Loopback goes direct (an app's local OTLP collector is not provider traffic).
  EXPECT_EQ(at(r.env, "NO_PROXY"), "127.0.0.1,localhost,::1");
  EXPECT_EQ(at(r.env, "no_proxy"), "127.0.0.1,localhost,::1");
  EXPECT_EQ(at(r.env, "OPENAI_BASE_URL"), "<unset>");
  EXPECT_EQ(at(r.env, "LD_PRELOAD"), "<unset>");
  EXPECT_EQ(at(r.env, "PATH"), "/usr/bin");
  EXPECT_EQ(at(r.env, "HOME"), "/root");
  EXPECT_TRUE(r.bundles.empty());
}

TEST(RunEnv, ProxyModeKeepsUserNoProxy) {
  EnvMap user = {{"NO_PROXY", "internal.example,10.0.0.0/8"}, {"no_proxy", "x.example"}};
  auto r = build_run_environment(user, endpoints(), {.proxy = true});
  EXPECT_EQ(at(r.env, "NO_PROXY"), "internal.example,10.0.0.0/8,127.0.0.1,localhost,::1");
  EXPECT_EQ(at(r.env, "no_proxy"), "x.example,127.0.0.1,localhost,::1");
}

TEST(RunEnv, CredentialRidesInTheProxyUrlAndTheGatewayBaseUrls) {
  RunEndpoints ep = endpoints();
  ep.proxy_credential = "c0ffee";
  auto r = build_run_environment({}, ep, {.proxy = true, .gateway = true});
  for (const char* k : {"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"})
    EXPECT_EQ(at(r.env, k), "http://llmtap:c0ffee@127.0.0.1:4567") << k;
  EXPECT_EQ(at(r.env, "OPENAI_BASE_URL"), "http://127.0.0.1:4567/t/c0ffee/openai/v1");
  EXPECT_EQ(at(r.env, "ANTHROPIC_BASE_URL"), "http://127.0.0.1:4567/t/c0ffee/anthropic");
  EXPECT_EQ(at(r.env, "GOOGLE_GEMINI_BASE_URL"), "http://127.0.0.1:4567/t/c0ffee/gemini");
}

TEST(RunEnv, ProxyPlusGatewayLetsGatewayBypassTheProxy) {
  EnvMap user = {{"NO_PROXY", "internal.example"}};
  auto r = build_run_environment(user, endpoints(), {.proxy = true, .gateway = true});
  EXPECT_EQ(at(r.env, "NO_PROXY"), "internal.example,127.0.0.1,localhost,::1");
  EXPECT_EQ(at(r.env, "no_proxy"), "internal.example,127.0.0.1,localhost,::1");
  auto again = build_run_environment({{"NO_PROXY", "127.0.0.1, foo, localhost,::1"}}, endpoints(),
                                     {.proxy = true, .gateway = true});
  EXPECT_EQ(at(again.env, "NO_PROXY"), "127.0.0.1, foo, localhost,::1");
  // llmtap reached at another address (LLMTAP_ENDPOINT): its gateway is reached directly too.
  RunEndpoints remote = endpoints();
  remote.proxy_address = "10.1.2.3:4567";
  EXPECT_EQ(at(build_run_environment({}, remote, {.proxy = true, .gateway = true}).env, "NO_PROXY"),
            "127.0.0.1,localhost,::1,10.1.2.3");
  EXPECT_EQ(at(build_run_environment({}, remote, {.proxy = true}).env, "NO_PROXY"), "127.0.0.1,localhost,::1");
}

TEST(RunEnv, UserTrustFilesAreExtendedNotLost) {
  EnvMap user = {{"SSL_CERT_FILE", "/etc/corp/roots.pem"},
                 {"REQUESTS_CA_BUNDLE", "/etc/corp/roots.pem"},
                 {"NODE_EXTRA_CA_CERTS", "/etc/corp/extra.pem"}};
  auto r = build_run_environment(user, endpoints(), {.proxy = true});
  std::string roots = extended_bundle_path("/data", "/etc/corp/roots.pem");
  std::string extra = extended_bundle_path("/data", "/etc/corp/extra.pem");
  EXPECT_NE(roots, extra);
  EXPECT_EQ(at(r.env, "SSL_CERT_FILE"), roots);
  EXPECT_EQ(at(r.env, "REQUESTS_CA_BUNDLE"), roots);
  EXPECT_EQ(at(r.env, "CURL_CA_BUNDLE"), "/data/ca-bundle.pem");  // not set by the user
  EXPECT_EQ(at(r.env, "NODE_EXTRA_CA_CERTS"), extra);
  ASSERT_EQ(r.bundles.size(), 2u);  // one bundle per distinct user file
  for (const auto& b : r.bundles) {
    ASSERT_EQ(b.sources.size(), 2u);
    EXPECT_EQ(b.sources[1], "/data/ca.pem");
    EXPECT_TRUE(b.sources[0] == "/etc/corp/roots.pem" || b.sources[0] == "/etc/corp/extra.pem");
  }
}

TEST(RunEnv, OwnBundlesAreNotExtendedTwice) {
  EnvMap user = {{"SSL_CERT_FILE", "/data/ca-bundle.pem"},
                 {"NODE_EXTRA_CA_CERTS", extended_bundle_path("/data", "/etc/x.pem")}};
  auto r = build_run_environment(user, endpoints(), {.proxy = true});
  EXPECT_EQ(at(r.env, "SSL_CERT_FILE"), "/data/ca-bundle.pem");
  EXPECT_EQ(at(r.env, "NODE_EXTRA_CA_CERTS"), extended_bundle_path("/data", "/etc/x.pem"));
  EXPECT_TRUE(r.bundles.empty());
}

TEST(RunEnv, GatewayModeSetsBaseUrls) {
  auto r = build_run_environment({}, endpoints(), {.gateway = true});
  EXPECT_EQ(at(r.env, "OPENAI_BASE_URL"), "http://127.0.0.1:4567/openai/v1");
  EXPECT_EQ(at(r.env, "ANTHROPIC_BASE_URL"), "http://127.0.0.1:4567/anthropic");
  EXPECT_EQ(at(r.env, "GOOGLE_GEMINI_BASE_URL"), "http://127.0.0.1:4567/gemini");
  EXPECT_EQ(at(r.env, "GEMINI_BASE_URL"), "http://127.0.0.1:4567/gemini");
  EXPECT_EQ(at(r.env, "HTTPS_PROXY"), "<unset>");
  EXPECT_EQ(at(r.env, "SSL_CERT_FILE"), "<unset>");
}

TEST(RunEnv, UserBaseUrlsBecomeUpstreams) {
  EnvMap user = {{"OPENAI_BASE_URL", "https://llm.corp.example/v1/"},
                 {"ANTHROPIC_BASE_URL", "https://claude.corp.example"},
                 {"GEMINI_BASE_URL", "not a url"}};
  auto urls = user_base_urls(user);
  ASSERT_EQ(urls.size(), 2u);
  EXPECT_EQ(urls[0].provider, "openai");
  EXPECT_EQ(urls[0].upstream, "https://llm.corp.example");
  EXPECT_EQ(urls[0].route_suffix, "/v1");
  EXPECT_EQ(urls[1].provider, "anthropic");
  EXPECT_EQ(urls[1].upstream, "https://claude.corp.example");
  auto r = build_run_environment(user, endpoints(), {.gateway = true});
  EXPECT_EQ(at(r.env, "OPENAI_BASE_URL"), "http://127.0.0.1:4567/openai/v1");
  EXPECT_EQ(at(r.env, "GEMINI_BASE_URL"), "http://127.0.0.1:4567/gemini");
}

TEST(RunEnv, OpenAiBaseWithoutVersionKeepsNoSuffix) {
  auto urls = user_base_urls({{"OPENAI_BASE_URL", "http://127.0.0.1:9999/api"}});
  ASSERT_EQ(urls.size(), 1u);
  EXPECT_EQ(urls[0].upstream, "http://127.0.0.1:9999/api");
  EXPECT_EQ(urls[0].route_suffix, "");
  auto r = build_run_environment({{"OPENAI_BASE_URL", "http://127.0.0.1:9999/api"}}, endpoints(), {.gateway = true});
  EXPECT_EQ(at(r.env, "OPENAI_BASE_URL"), "http://127.0.0.1:4567/openai");
}

// A base URL set with the version segment the app's SDK expects (the AI SDK wants
// ANTHROPIC_BASE_URL=https://host/v1) keeps it on llmtap's side: the app posts the same paths.
TEST(RunEnv, UserBaseUrlVersionSegmentStaysInTheRoute) {
  EnvMap user = {{"ANTHROPIC_BASE_URL", "https://claude.corp.example/v1"},
                 {"GOOGLE_GEMINI_BASE_URL", "https://gemini.corp.example/proxy/v1beta"}};
  auto urls = user_base_urls(user);
  ASSERT_EQ(urls.size(), 2u);
  EXPECT_EQ(urls[0].upstream, "https://claude.corp.example");
  EXPECT_EQ(urls[0].route_suffix, "/v1");
  EXPECT_EQ(urls[1].upstream, "https://gemini.corp.example/proxy");
  EXPECT_EQ(urls[1].route_suffix, "/v1beta");
  auto r = build_run_environment(user, endpoints(), {.gateway = true});
  EXPECT_EQ(at(r.env, "ANTHROPIC_BASE_URL"), "http://127.0.0.1:4567/anthropic/v1");
  EXPECT_EQ(at(r.env, "GOOGLE_GEMINI_BASE_URL"), "http://127.0.0.1:4567/gemini/v1beta");
  // A host with no path, or a path that is not a version, stays whole.
  EXPECT_EQ(user_base_urls({{"ANTHROPIC_BASE_URL", "https://v1"}})[0].upstream, "https://v1");
  EXPECT_EQ(user_base_urls({{"ANTHROPIC_BASE_URL", "https://h/version"}})[0].route_suffix, "");
}

TEST(RunEnv, PreloadAppendsToUserPreload) {
  auto r = build_run_environment({}, endpoints(), {.preload = true});
  EXPECT_EQ(at(r.env, "LD_PRELOAD"), "/opt/llmtap/libllmtap_preload.so");
  EXPECT_EQ(at(r.env, "LLMTAP_COLLECTOR_SOCKET"), "/data/collector.sock");
  EXPECT_EQ(at(r.env, "HTTPS_PROXY"), "<unset>");
  auto u = build_run_environment({{"LD_PRELOAD", "/usr/lib/libjemalloc.so"}}, endpoints(), {.preload = true});
  EXPECT_EQ(at(u.env, "LD_PRELOAD"), "/usr/lib/libjemalloc.so:/opt/llmtap/libllmtap_preload.so");
  auto twice = build_run_environment(u.env, endpoints(), {.preload = true});
  EXPECT_EQ(at(twice.env, "LD_PRELOAD"), "/usr/lib/libjemalloc.so:/opt/llmtap/libllmtap_preload.so");
}

TEST(RunEnv, WriteBundlesConcatenatesUserFileAndCa) {
  char dir[] = "/tmp/llmtap-run-env-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  std::string d = dir;
  std::ofstream(d + "/user.pem") << "USER-CERT";  // no trailing newline on purpose
  std::ofstream(d + "/ca.pem") << "LLMTAP-CA\n";
  BundleSpec spec{d + "/out.pem", {d + "/user.pem", d + "/ca.pem"}};
  EXPECT_EQ(write_ca_bundles({spec}), "");
  std::ifstream in(spec.path);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str(), "USER-CERT\nLLMTAP-CA\n");
  EXPECT_NE(write_ca_bundles({{d + "/out2.pem", {d + "/missing.pem", d + "/ca.pem"}}}), "");
  std::system(("rm -rf " + d).c_str());
}

TEST(RunEnv, EnvpRoundTrip) {
  auto envp = to_envp({{"A", "1"}, {"B", "x=y"}});
  ASSERT_EQ(envp.size(), 2u);
  EXPECT_EQ(envp[0], "A=1");
  EXPECT_EQ(envp[1], "B=x=y");
}

}  // namespace
}  // namespace llmtap::cli
