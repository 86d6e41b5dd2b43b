#include "proxy/request_routing.h"

#include <gtest/gtest.h>

namespace llmtap::proxy {
namespace {

RoutingConfig config() {
  RoutingConfig c;
  EXPECT_EQ(c.set_overrides({{"openai", "https://127.0.0.1:8443/base/"}, {"local", "http://localhost:9000"}}), "");
  c.intercept_hosts.insert("llm.internal");
  return c;
}

TEST(RequestRouting, ParsesUpstreamUrls) {
  UpstreamTarget t;
  EXPECT_EQ(parse_upstream_url("https://[::1]:8443/p", t), "");
  EXPECT_EQ(t.host, "::1");
  EXPECT_EQ(t.port, 8443);
  EXPECT_EQ(t.path_prefix, "/p");
  EXPECT_EQ(t.authority(), "[::1]:8443");
  EXPECT_EQ(parse_upstream_url("http://Example.COM", t), "");
  EXPECT_FALSE(t.tls);
  EXPECT_EQ(t.host, "example.com");
  EXPECT_EQ(t.port, 80);
  EXPECT_EQ(t.authority(), "example.com");
  EXPECT_NE(parse_upstream_url("ftp://x", t), "");
  EXPECT_NE(parse_upstream_url("https://x:99999", t), "");
  EXPECT_NE(parse_upstream_url("https://x/a?b", t), "");
}

TEST(RequestRouting, GatewayRoutes) {
  auto c = config();
  Route r = route_plain_request(c, "/openai/v1/chat/completions?x=1");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.upstream.host, "127.0.0.1");
  EXPECT_EQ(r.upstream_path, "/base/v1/chat/completions?x=1");
  EXPECT_EQ(std::string(r.source), "gateway");
  EXPECT_EQ(r.tap_host, "api.openai.com");
  EXPECT_TRUE(r.rewrite_host);
  r = route_plain_request(c, "/anthropic/v1/messages");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.upstream.host, "api.anthropic.com");
  EXPECT_EQ(r.upstream.port, 443);
  EXPECT_TRUE(r.upstream.tls);
  EXPECT_EQ(r.upstream_path, "/v1/messages");
  r = route_plain_request(c, "/gemini");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.upstream_path, "/");
  r = route_plain_request(c, "/local/x");
  ASSERT_TRUE(r.ok);
  EXPECT_FALSE(r.upstream.tls);
  EXPECT_EQ(r.tap_host, "localhost");
  r = route_plain_request(c, "/unknown/x");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error_status, 404);
}

// Every SDK that reads a base-URL variable reaches the API, whether it joins its paths with the
// version segment (Anthropic's SDK: ${base}/v1/messages) or without (the AI SDK: ${base}/messages).
TEST(RequestRouting, GatewayRoutesWithOrWithoutVersionSegment) {
  auto c = config();
  for (const char* target : {"/anthropic/messages", "/anthropic/v1/messages"}) {
    Route r = route_plain_request(c, target);
    ASSERT_TRUE(r.ok) << target;
    EXPECT_EQ(r.upstream_path, "/v1/messages") << target;
  }
  EXPECT_EQ(route_plain_request(c, "/anthropic/messages/count_tokens?beta=true").upstream_path,
            "/v1/messages/count_tokens?beta=true");
  // OpenAI's upstream here is http://127.0.0.1:PORT/base.
  EXPECT_EQ(route_plain_request(c, "/openai/responses").upstream_path, "/base/v1/responses");
  EXPECT_EQ(route_plain_request(c, "/openai/chat/completions?x=1").upstream_path, "/base/v1/chat/completions?x=1");
  EXPECT_EQ(route_plain_request(c, "/gemini/models/gemini-2.5-flash:generateContent").upstream_path,
            "/v1beta/models/gemini-2.5-flash:generateContent");
  EXPECT_EQ(route_plain_request(c, "/gemini/v1/models/m:generateContent").upstream_path, "/v1/models/m:generateContent");
  // A client's own paths under the route (Claude Code's bootstrap, telemetry) go as they came.
  EXPECT_EQ(route_plain_request(c, "/anthropic/api/claude_cli/bootstrap").upstream_path, "/api/claude_cli/bootstrap");
  EXPECT_EQ(route_plain_request(c, "/anthropic/").upstream_path, "/");
  EXPECT_EQ(route_plain_request(c, "/anthropic/messagesX").upstream_path, "/messagesX");
  // An upstream whose base already ends with a version keeps it once.
  RoutingConfig v;
  ASSERT_EQ(v.set_overrides({{"anthropic", "https://gw.example/v1"}}), "");
  EXPECT_EQ(route_plain_request(v, "/anthropic/messages").upstream_path, "/v1/messages");
}

TEST(RequestRouting, AbsoluteForm) {
  auto c = config();
  Route r = route_plain_request(c, "http://user:pw@example.com:8080/a/b?c");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.upstream.host, "example.com");
  EXPECT_EQ(r.upstream.port, 8080);
  EXPECT_FALSE(r.upstream.tls);
  EXPECT_EQ(r.upstream_path, "/a/b?c");
  EXPECT_FALSE(r.rewrite_host);
  r = route_plain_request(c, "http://example.com");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.upstream_path, "/");
  EXPECT_FALSE(route_plain_request(c, "https://example.com/").ok);
  EXPECT_FALSE(route_plain_request(c, "http://exa mple.com/").ok);
}

TEST(RequestRouting, InterceptDecision) {
  auto c = config();
  EXPECT_TRUE(should_intercept(c, "api.openai.com"));
  EXPECT_TRUE(should_intercept(c, "API.Anthropic.com"));
  EXPECT_TRUE(should_intercept(c, "generativelanguage.googleapis.com"));
  EXPECT_TRUE(should_intercept(c, "myres.openai.azure.com"));
  EXPECT_TRUE(should_intercept(c, "llm.internal"));
  EXPECT_TRUE(should_intercept(c, "chatgpt.com"));  // Codex with a ChatGPT account
  EXPECT_FALSE(should_intercept(c, "github.com"));
  EXPECT_FALSE(should_intercept(c, "openai.azure.com"));
}

TEST(RequestRouting, FullyQualifiedAndUppercaseHostsAreTheSameHost) {
  // A trailing dot or other case must not turn an intercepted provider into a blind tunnel.
  auto c = config();
  EXPECT_TRUE(should_intercept(c, "api.openai.com."));
  EXPECT_TRUE(should_intercept(c, "API.OPENAI.COM."));
  EXPECT_TRUE(should_intercept(c, "LLM.Internal."));
  std::string host;
  std::uint16_t port = 0;
  ASSERT_TRUE(split_host_port("API.OpenAI.com.:443", 443, host, port));  // the CONNECT target
  EXPECT_EQ(host, "api.openai.com");
  EXPECT_EQ(port, 443);
  Route r = route_plain_request(c, "http://API.openai.com./v1/models");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.tap_host, "api.openai.com");
}

TEST(RequestRouting, InterceptedRequestsUseOverride) {
  auto c = config();
  Route r = route_intercepted_request(c, "api.openai.com", 443, "/v1/models");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.upstream.port, 8443);
  EXPECT_EQ(r.upstream_path, "/base/v1/models");
  EXPECT_TRUE(r.rewrite_host);
  EXPECT_EQ(r.tap_host, "api.openai.com");
  r = route_intercepted_request(c, "api.anthropic.com", 443, "/v1/messages");
  EXPECT_EQ(r.upstream.host, "api.anthropic.com");
  EXPECT_FALSE(r.rewrite_host);
  // chatgpt.com is its own entry: an OpenAI API override does not send the ChatGPT site there.
  r = route_intercepted_request(c, "chatgpt.com", 443, "/backend-api/codex/responses");
  EXPECT_EQ(r.upstream.host, "chatgpt.com");
  EXPECT_FALSE(r.rewrite_host);
}

TEST(RequestRouting, RewritesHeader) {
  RequestFraming req(8192);
  req.eager(false);
  boost::beast::error_code ec;
  std::string raw =
      "POST /openai/v1/x HTTP/1.1\r\nHost: 127.0.0.1:1\r\nProxy-Connection: keep-alive\r\n"
      "Authorization: Bearer k\r\nContent-Length: 2\r\n\r\nhi";
  std::size_t n = req.put(boost::asio::buffer(raw), ec);
  ASSERT_FALSE(ec);
  EXPECT_EQ(raw.substr(n), "hi");
  auto c = config();
  Route r = route_plain_request(c, req.target());
  std::string out;
  build_upstream_request_header(req, r, out);
  EXPECT_EQ(out,
            "POST /base/v1/x HTTP/1.1\r\nHost: 127.0.0.1:8443\r\nAuthorization: Bearer k\r\n"
            "Content-Length: 2\r\n\r\n");
}

// An upgrade must reach the upstream with its hop-by-hop fields intact: the upstream answers 101 only
// to `Connection: Upgrade` + `Upgrade`, and the WebSocket key/version/extensions are end-to-end.
TEST(RequestRouting, KeepsUpgradeFields) {
  RequestFraming req(8192);
  req.eager(false);
  boost::beast::error_code ec;
  std::string raw =
      "GET /openai/v1/responses HTTP/1.1\r\nHost: 127.0.0.1:1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
      "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n";
  req.put(boost::asio::buffer(raw), ec);
  ASSERT_FALSE(ec);
  ASSERT_TRUE(req.is_done());
  auto c = config();
  Route r = route_plain_request(c, req.target());
  std::string out;
  build_upstream_request_header(req, r, out);
  EXPECT_EQ(out,
            "GET /base/v1/responses HTTP/1.1\r\nHost: 127.0.0.1:8443\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n");
}

}  // namespace
}  // namespace llmtap::proxy
