// Routing (gateway prefixes, absolute form, Host, registry), header redaction, other APIs.
#include "parsers/route.h"

#include <gtest/gtest.h>

#include "parsers/header_filter.h"
#include "parsers/record_matchers.h"
#include "parsers/test_support.h"

namespace llmtap {
namespace {

using namespace testing;

Route route(const std::string& target, const ConnectionInfo& conn, Headers headers = {},
            const ProviderRegistry* reg = nullptr) {
  return route_request(RequestHead{"POST", target, std::move(headers)}, conn, reg);
}

TEST(Route, GatewayPrefixesNameTheProvider) {
  ConnectionInfo gw{"127.0.0.1", 8080, false, "gateway", 0};
  Route r = route("/openai/v1/responses?x=1", gw);
  EXPECT_EQ(r.provider, "openai");
  EXPECT_EQ(r.api, "responses");
  EXPECT_EQ(r.host, "api.openai.com");
  EXPECT_EQ(r.path, "/v1/responses");
  EXPECT_EQ(r.query, "x=1");
  r = route("/gemini/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse", gw);
  EXPECT_EQ(r.provider, "gemini");
  EXPECT_TRUE(r.stream_from_path);
  EXPECT_EQ(r.model_from_path, "gemini-2.0-flash");
}

TEST(Route, ChatGptOnlyTheCodexPathIsAModelApi) {
  ConnectionInfo tls{"chatgpt.com", 443, true, "proxy", 0};
  Route r = route("/backend-api/codex/responses", tls);
  EXPECT_TRUE(r.records);
  EXPECT_EQ(r.provider, "openai");
  EXPECT_EQ(r.api, "responses");
  EXPECT_EQ(r.shape, ApiShape::kResponses);
  EXPECT_EQ(r.host, "chatgpt.com");
  for (const std::string p : {"/backend-api/codex/responses/x", "/backend-api/responses", "/v1/responses",
                              "/backend-api/wham/usage", "/"}) {
    r = route(p, tls);
    EXPECT_FALSE(r.records) << p;
    EXPECT_EQ(r.shape, ApiShape::kNone) << p;
  }
  r = route("https://chatgpt.com/backend-api/codex/responses?x=1", ConnectionInfo{});  // absolute form
  EXPECT_TRUE(r.records);
  EXPECT_EQ(r.provider, "openai");
}

TEST(Route, AbsoluteFormAndHostHeader) {
  Route r = route("http://api.openai.com:80/v1/chat/completions", ConnectionInfo{});
  EXPECT_EQ(r.provider, "openai");
  EXPECT_EQ(r.host, "api.openai.com");
  EXPECT_EQ(r.path, "/v1/chat/completions");
  r = route("/v1/messages", ConnectionInfo{}, {{"HOST", "API.Anthropic.com:443"}});
  EXPECT_EQ(r.provider, "anthropic");
  EXPECT_EQ(r.api, "anthropic_messages");
  EXPECT_EQ(r.host, "api.anthropic.com");
}

TEST(Route, TrailingDotAndCaseNameTheSameProvider) {
  Route r = route("/v1/messages", ConnectionInfo{}, {{"Host", "API.Anthropic.com.:443"}});
  EXPECT_EQ(r.provider, "anthropic");
  EXPECT_EQ(r.host, "api.anthropic.com");
  ConnectionInfo sni{"api.openai.com.", 443, true, "preload", 0};  // SNI as a client may send it
  r = route("/v1/chat/completions", sni);
  EXPECT_EQ(r.provider, "openai");
  EXPECT_EQ(r.host, "api.openai.com");
  ProviderRegistry reg;
  reg.add("LLM.Corp.", "corp", "openai_compatible");
  EXPECT_EQ(reg.lookup("llm.corp.", 443).provider, "corp");
  EXPECT_EQ(reg.lookup("LLM.CORP:443", 0).provider, "corp");
}

TEST(Route, CompatibleServersAndRegistry) {
  EXPECT_EQ(route("/api/v1/chat/completions", ConnectionInfo{"openrouter.ai", 443, true, "proxy", 0}).provider, "openrouter");
  EXPECT_EQ(route("/v1/chat/completions", ConnectionInfo{"api.deepseek.com", 443, true, "proxy", 0}).provider, "deepseek");
  EXPECT_EQ(route("/v1/chat/completions", ConnectionInfo{"api.mistral.ai", 443, true, "proxy", 0}).provider, "mistral");
  EXPECT_EQ(route("/v1/chat/completions", ConnectionInfo{"api.together.xyz", 443, true, "proxy", 0}).provider, "together");
  Route ollama = route("/v1/chat/completions", ConnectionInfo{"localhost", 11434, false, "preload", 0});
  EXPECT_EQ(ollama.provider, "ollama");
  EXPECT_EQ(ollama.api, "chat_completions");

  ProviderRegistry reg;
  reg.add("vllm.internal:8000", "vllm");
  reg.add("*.corp.example", "corp_gateway", "openai_compatible");
  Route v = route("/v1/chat/completions", ConnectionInfo{"vllm.internal", 8000, false, "proxy", 0}, {}, &reg);
  EXPECT_EQ(v.provider, "vllm");
  EXPECT_EQ(v.api, "chat_completions");
  EXPECT_EQ(route("/v1/embeddings", ConnectionInfo{"llm.corp.example", 443, true, "proxy", 0}, {}, &reg).provider,
            "corp_gateway");
  // Unknown host: the API is still recognised by its path; the provider stays unknown.
  Route u = route("/v1/chat/completions", ConnectionInfo{"10.0.0.5", 9000, false, "proxy", 0});
  EXPECT_EQ(u.provider, "unknown");
  EXPECT_EQ(u.api, "chat_completions");
  Route none = route("/index.html", ConnectionInfo{"example.com", 443, true, "proxy", 0});
  EXPECT_EQ(none.provider, "unknown");
  EXPECT_EQ(none.api, "unknown");
  EXPECT_EQ(none.shape, ApiShape::kNone);
}

// Only model API calls are model calls: what Claude Code, Codex, Gemini CLI and the Agents SDK
// send to provider hosts besides them is kOther (or a token count), whatever its status.
TEST(Route, OnlyModelCallsAreModelCalls) {
  const ConnectionInfo anthropic{"api.anthropic.com", 443, true, "proxy", 0};
  const ConnectionInfo openai{"api.openai.com", 443, true, "proxy", 0};
  const ConnectionInfo gemini{"generativelanguage.googleapis.com", 443, true, "proxy", 0};
  const ConnectionInfo gw{"127.0.0.1", 8080, false, "gateway", 0};
  auto kind = [](const std::string& method, const std::string& target, const ConnectionInfo& conn) {
    return route_request(RequestHead{method, target, {}}, conn, nullptr).kind;
  };
  struct Case {
    const char* method;
    const char* target;
    const ConnectionInfo* conn;
    ExchangeKind want;
  };
  const Case cases[] = {
      {"POST", "/v1/messages?beta=true", &anthropic, ExchangeKind::kModelCall},
      {"GET", "/api/claude_cli/bootstrap", &anthropic, ExchangeKind::kOther},
      {"POST", "/api/event_logging/v2/batch", &anthropic, ExchangeKind::kOther},
      {"POST", "/api/eval/sdk-abc123", &anthropic, ExchangeKind::kOther},
      {"GET", "/mcp-registry/v0/servers?version=latest", &anthropic, ExchangeKind::kOther},
      {"HEAD", "/", &anthropic, ExchangeKind::kOther},
      {"HEAD", "/v1/messages", &anthropic, ExchangeKind::kOther},
      {"GET", "/v1/models", &anthropic, ExchangeKind::kOther},
      {"POST", "/v1/messages/count_tokens", &anthropic, ExchangeKind::kTokenCount},
      {"POST", "/v1/responses", &openai, ExchangeKind::kModelCall},
      {"POST", "/v1/responses/compact", &openai, ExchangeKind::kModelCall},
      {"POST", "/v1/responses/input_tokens", &openai, ExchangeKind::kTokenCount},
      {"GET", "/v1/responses", &openai, ExchangeKind::kOther},  // a WebSocket upgrade attempt
      {"GET", "/v1/responses/resp_1", &openai, ExchangeKind::kOther},
      {"DELETE", "/v1/responses/resp_1", &openai, ExchangeKind::kOther},
      {"POST", "/v1/conversations", &openai, ExchangeKind::kOther},
      {"POST", "/v1/conversations/conv_1/items", &openai, ExchangeKind::kOther},
      {"GET", "/v1/chat/completions", &openai, ExchangeKind::kOther},  // stored completions list
      {"POST", "/v1/chat/completions", &openai, ExchangeKind::kModelCall},
      {"POST", "/v1/files", &openai, ExchangeKind::kOther},
      {"POST", "/v1/embeddings", &openai, ExchangeKind::kModelCall},
      {"POST", "/v1/traces", &openai, ExchangeKind::kOther},  // an OTLP post
      {"POST", "/v1beta/models/gemini-2.5-flash:generateContent", &gemini, ExchangeKind::kModelCall},
      {"POST", "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", &gemini, ExchangeKind::kModelCall},
      {"POST", "/v1beta/models/gemini-2.5-flash:countTokens", &gemini, ExchangeKind::kTokenCount},
      {"GET", "/v1beta/models", &gemini, ExchangeKind::kOther},
      {"POST", "/anthropic/messages", &gw, ExchangeKind::kModelCall},
      {"POST", "/anthropic/v1/messages", &gw, ExchangeKind::kModelCall},
      {"POST", "/anthropic/api/event_logging/v2/batch", &gw, ExchangeKind::kOther},
      {"POST", "/openai/responses", &gw, ExchangeKind::kModelCall},
      {"POST", "/gemini/models/m:countTokens", &gw, ExchangeKind::kTokenCount},
  };
  for (const auto& c : cases) EXPECT_EQ(kind(c.method, c.target, *c.conn), c.want) << c.method << " " << c.target;

  Route r = route_request(RequestHead{"POST", "/anthropic/messages", {}}, gw, nullptr);
  EXPECT_EQ(r.path, "/v1/messages");
  EXPECT_EQ(r.api, "anthropic_messages");
  r = route_request(RequestHead{"POST", "/gemini/models/gemini-2.5-flash:generateContent", {}}, gw, nullptr);
  EXPECT_EQ(r.path, "/v1beta/models/gemini-2.5-flash:generateContent");
  EXPECT_EQ(r.model_from_path, "gemini-2.5-flash");
}

TEST(HeaderFilter, DropsEveryCredential) {
  for (const char* h : {"Authorization", "proxy-authorization", "X-Api-Key", "api-key", "x-goog-api-key", "Cookie",
                        "X-Auth-Token", "OpenAI-Secret", "x-amz-security-token", "X-Session-Id"}) {
    EXPECT_TRUE(is_secret_header(h)) << h;
  }
  for (const char* h : {"Host", "User-Agent", "traceparent", "anthropic-version", "Content-Type", "x-stainless-os"}) {
    EXPECT_FALSE(is_secret_header(h)) << h;
  }
}

TEST(OtherApis, OpenAIEmbeddings) {
  ExchangeSpec spec;
  spec.conn = ConnectionInfo{"api.openai.com", 443, true, "proxy", 0};
  spec.target = "/v1/embeddings";
  spec.host = "api.openai.com";
  spec.request_body = fixture("embeddings.req.json");
  spec.response_body = fixture("embeddings.resp");
  for_each_feeding(spec, [](const ModelCall& c) {
    EXPECT_EQ(c.api, "embeddings");
    EXPECT_EQ(c.operation, "embeddings");
    EXPECT_EQ(c.request_model, "text-embedding-3-small");
    EXPECT_EQ(c.response_model, "text-embedding-3-small");
    ASSERT_EQ(c.input.size(), 2u);
    expect_message(c.input[0], "user", "first text");
    expect_message(c.input[1], "user", "second text");
    EXPECT_TRUE(c.output.empty());
    expect_usage(c.usage, 8, 0, 0, 0, 0, 0);
    EXPECT_EQ(c.status, CallStatus::kComplete);
  }, false);
}

TEST(OtherApis, GeminiEmbedContent) {
  ExchangeSpec spec;
  spec.conn = ConnectionInfo{"generativelanguage.googleapis.com", 443, true, "proxy", 0};
  spec.target = "/v1beta/models/gemini-embedding-001:embedContent";
  spec.host = "generativelanguage.googleapis.com";
  spec.request_body = fixture("gemini_embed.req.json");
  spec.response_body = fixture("gemini_embed.resp");
  for_each_feeding(spec, [](const ModelCall& c) {
    EXPECT_EQ(c.provider, "gemini");
    EXPECT_EQ(c.api, "embeddings");
    EXPECT_EQ(c.operation, "embeddings");
    EXPECT_EQ(c.request_model, "gemini-embedding-001");
    ASSERT_EQ(c.input.size(), 1u);
    expect_message(c.input[0], "user", "What is life?");
    EXPECT_FALSE(c.usage.present);
    EXPECT_EQ(c.status, CallStatus::kComplete);
  }, false);
}

TEST(OtherApis, OllamaNativeChatNdjson) {
  ExchangeSpec spec;
  spec.conn = ConnectionInfo{"localhost", 11434, false, "preload", 0};
  spec.target = "/api/chat";
  spec.host = "localhost:11434";
  spec.content_type = "application/x-ndjson";
  spec.request_body = fixture("ollama_chat.req.json");
  spec.response_body = fixture("ollama_chat.ndjson");
  for_each_feeding(spec, [](const ModelCall& c) {
    EXPECT_EQ(c.provider, "ollama");
    EXPECT_EQ(c.api, "ollama_chat");
    EXPECT_EQ(c.request_model, "llama3.2");
    EXPECT_TRUE(c.stream);
    ASSERT_EQ(c.input.size(), 3u);
    expect_message(c.input[0], "user", "weather?");
    expect_message(c.input[1], "assistant", "", "", {{"get_weather#0", "get_weather", "{\"city\":\"Oslo\"}"}});
    expect_message(c.input[2], "tool", "-3C", "", {}, "get_weather#0", "get_weather");
    ASSERT_EQ(c.tools.size(), 1u);
    EXPECT_EQ(c.tools[0].schema_hash, "a2c799262a3ce3c19ef5cdd983bf3d12b43ab3c426227091b909dcb7054738c0");
    EXPECT_EQ(c.response_model, "llama3.2");
    ASSERT_EQ(c.output.size(), 1u);
    expect_message(c.output[0], "assistant", "It is cold.");
    EXPECT_EQ(c.finish_reasons, (std::vector<std::string>{"stop"}));
    expect_usage(c.usage, 26, 0, 0, 0, 12, 0);
    EXPECT_EQ(c.status, CallStatus::kComplete);
    expect_stream_timings(c);
  });
}

TEST(OtherApis, UnknownHostGivesAGenericRecord) {
  ExchangeSpec spec;
  spec.conn = ConnectionInfo{"example.com", 443, true, "proxy", 0};
  spec.method = "GET";
  spec.target = "/index.html?q=1";
  spec.host = "example.com";
  spec.content_type = "text/html";
  spec.response_body = "<html>hello</html>";
  for_each_feeding(spec, [](const ModelCall& c) {
    EXPECT_EQ(c.provider, "unknown");
    EXPECT_EQ(c.api, "unknown");
    EXPECT_EQ(c.operation, "");
    EXPECT_EQ(c.method, "GET");
    EXPECT_EQ(c.host, "example.com");
    EXPECT_EQ(c.path, "/index.html");
    EXPECT_EQ(c.query, "q=1");
    EXPECT_EQ(c.http_status, 200);
    EXPECT_TRUE(c.output.empty());
    EXPECT_FALSE(c.usage.present);
    EXPECT_EQ(c.status, CallStatus::kComplete);
    EXPECT_EQ(c.kind, ExchangeKind::kOther);
  }, false);
}

// A client's bootstrap call to a provider host, failing or not, is forwarded and recorded as
// kOther: no parser runs on it.
TEST(OtherApis, ProviderHostNonModelCallIsOther) {
  ExchangeSpec spec;
  spec.conn = ConnectionInfo{"api.anthropic.com", 443, true, "proxy", 0};
  spec.method = "GET";
  spec.target = "/api/claude_cli/bootstrap";
  spec.host = "api.anthropic.com";
  spec.status = 404;
  spec.response_body = R"({"type":"error","error":{"type":"not_found_error","message":"Not found"}})";
  for_each_feeding(spec, [](const ModelCall& c) {
    EXPECT_EQ(c.kind, ExchangeKind::kOther);
    EXPECT_EQ(c.provider, "anthropic");
    EXPECT_EQ(c.api, "unknown");
  }, false);
}

}  // namespace
}  // namespace llmtap

#include "parsers/json_fields.h"

namespace llmtap {
namespace {

TEST(JsonFields, HostileNestingIsCutNotRecursedInto) {
  std::string deep = "{\"a\":" + std::string(200000, '[') + std::string(200000, ']') + ",\"b\":1}";
  auto j = json_fields::parse(deep);
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(json_fields::i64(j, "b"), 1);
  int depth = 0;
  for (const json_fields::json* p = &j["a"]; p->is_array() && !p->empty(); p = &(*p)[0]) ++depth;
  EXPECT_LE(depth, 130);
  EXPECT_FALSE(json_fields::compact_arguments(j).empty());
  EXPECT_FALSE(json_fields::schema_hash(j).empty());
}

TEST(JsonFields, WrongTypesReadAsEmpty) {
  auto j = json_fields::parse(R"({"s":1,"n":"x","o":[],"f":1e300,"neg":-5})");
  EXPECT_EQ(json_fields::str(j, "s"), "");
  EXPECT_EQ(json_fields::i64(j, "n"), 0);
  EXPECT_EQ(json_fields::i64(j, "neg"), -5);
  EXPECT_EQ(json_fields::i64(j, "f"), INT64_MAX);
  EXPECT_TRUE(json_fields::at(j, "o").is_array());
  EXPECT_TRUE(json_fields::at(json_fields::at(j, "missing"), "deeper").is_null());
}

}  // namespace
}  // namespace llmtap
