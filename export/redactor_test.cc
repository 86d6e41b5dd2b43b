#include "export/redactor.h"

#include <gtest/gtest.h>

#include "export/span_codec.h"
#include "export/test_spans.h"

namespace llmtap::exporting {
namespace {

const std::string kOpenAi = "sk-proj-Abc123def456ghi789JKL012mno345";
const std::string kAnthropic = "sk-ant-api03-ZZZZyyyyXXXXwwww1111-2222_3333";
const std::string kGoogle = "AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUv";

TEST(Redactor, ApiKeyPatterns) {
  Redactor r;
  const std::pair<std::string, std::string> keys[] = {
      {kOpenAi, "openai_key"}, {kAnthropic, "anthropic_key"}, {kGoogle, "google_api_key"}};
  for (const auto& [key, cls] : keys) {
    std::string out = r.redact("prefix " + key + " suffix");
    EXPECT_EQ(out.find(key), std::string::npos) << out;
    EXPECT_EQ(out, "prefix [REDACTED:" + cls + "] suffix");
  }
  EXPECT_EQ(r.redact("https://x/v1beta/models?key=" + kGoogle + "&alt=sse"),
            "https://x/v1beta/models?key=[REDACTED]&alt=sse");
}

TEST(Redactor, QueryStringKeys) {
  Redactor r;
  EXPECT_EQ(r.redact("GET /v1beta/models/gemini:generateContent?key=opaque123&alt=sse"),
            "GET /v1beta/models/gemini:generateContent?key=[REDACTED]&alt=sse");
  EXPECT_EQ(r.redact("\"url\":\"https://h/x?a=1&key=opaque\""), "\"url\":\"https://h/x?a=1&key=[REDACTED]\"");
  EXPECT_EQ(r.redact("the key=value pairs"), "the key=value pairs");  // not a query string
}

TEST(Redactor, BearerTokens) {
  Redactor r;
  EXPECT_EQ(r.redact("Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig"), "Bearer [REDACTED:bearer_token]");
  EXPECT_EQ(r.redact("token: bearer abcdefgh12345678 end"), "token: bearer [REDACTED:password] end");
  EXPECT_EQ(r.redact("Bearer abcdefgh1234"), "Bearer [REDACTED]");  // short: the header rule
  EXPECT_EQ(r.redact("a bearer of news"), "a bearer of news");  // not a token
}

TEST(Redactor, AuthHeaderValues) {
  Redactor r;
  EXPECT_EQ(r.redact("Authorization: Basic dXNlcjpwYXNz\r\nHost: x"), "Authorization: [REDACTED]\r\nHost: x");
  EXPECT_EQ(r.redact("x-api-key: some-opaque-value\n"), "x-api-key: [REDACTED]\n");
  EXPECT_EQ(r.redact("{\"api-key\": \"opaque\", \"model\": \"m\"}"), "{\"api-key\": \"[REDACTED]\", \"model\": \"m\"}");
  EXPECT_EQ(r.redact("{\"x-goog-api-key\":\"opaque\"}"), "{\"x-goog-api-key\":\"[REDACTED]\"}");
  EXPECT_EQ(r.redact("{\\\"authorization\\\":\\\"opaque\\\"}"), "{\\\"authorization\\\":\\\"[REDACTED]\\\"}");
  EXPECT_EQ(r.redact("Authorization=Basic%20abc,other=1"), "Authorization=[REDACTED],other=1");
  // Words that merely contain the names are left alone.
  EXPECT_EQ(r.redact("the authorization flow"), "the authorization flow");
  EXPECT_EQ(r.redact("tasks: 3"), "tasks: 3");
}

TEST(Redactor, AttributeKeysNamingAuthHeaders) {
  EXPECT_TRUE(Redactor::is_auth_key("http.request.header.authorization"));
  EXPECT_TRUE(Redactor::is_auth_key("http.request.header.x-api-key"));
  EXPECT_TRUE(Redactor::is_auth_key("X-Goog-Api-Key"));
  EXPECT_FALSE(Redactor::is_auth_key("gen_ai.usage.input_tokens"));
  EXPECT_FALSE(Redactor::is_auth_key("gen_ai.agent.name"));
  // Compared in place, any case, only as the key's last word.
  EXPECT_TRUE(Redactor::is_auth_key("HTTP.Request.Header.Proxy-Authorization"));
  EXPECT_TRUE(Redactor::is_auth_key("x-API-KEY"));
  EXPECT_TRUE(Redactor::is_auth_key("Cookie"));
  EXPECT_FALSE(Redactor::is_auth_key("myauthorization"));
  EXPECT_FALSE(Redactor::is_auth_key("cookies"));
  EXPECT_FALSE(Redactor::is_auth_key(""));
}

TEST(Redactor, ContentAttributeNames) {
  for (const char* k : {"gen_ai.system_instructions", "gen_ai.input.messages", "gen_ai.output.messages",
                        "gen_ai.tool.call.arguments", "gen_ai.tool.call.result", "gen_ai.prompt",
                        "gen_ai.completion", "gen_ai.prompt.0.content", "gen_ai.input.messages.raw"})
    EXPECT_TRUE(is_content_attribute(k)) << k;
  // Names that share a prefix or a first letter with a content name are not content.
  for (const char* k : {"gen_ai.prompt_tokens", "gen_ai.provider.name", "gen_ai.completions",
                        "gen_ai.tool.call.id", "gen_ai.tool.name", "gen_ai.system", "gen_ai.operation.name",
                        "gen_ai.conversation.id", "gen_ai.input", "gen_ai.", "gen_ai", "", "x.gen_ai.prompt",
                        "llm.input.messages"})
    EXPECT_FALSE(is_content_attribute(k)) << k;
}

TEST(Redactor, NumericAttributesAreLeftAsTheyAre) {
  Redactor r;
  std::vector<Attribute> attrs{{"http.request.header.authorization", std::int64_t{42}},
                               {"gen_ai.usage.input_tokens", 1.5},
                               {"http.request.header.x-api-key", std::string(kOpenAi)}};
  Span s;
  s.attributes = attrs;
  r.redact_span(s);
  EXPECT_EQ(std::get<std::int64_t>(s.attributes[0].value), 42);
  EXPECT_EQ(std::get<double>(s.attributes[1].value), 1.5);
  EXPECT_EQ(std::get<std::string>(s.attributes[2].value), "[REDACTED]");
}

TEST(Redactor, SpanEverywhere) {
  Redactor r;
  Trace t = testing::support_trace("0af7651916cd43dd8448eb211c80319c", kAnthropic);
  t.spans[1].name = "execute_tool " + kOpenAi;
  t.spans[2].set("list", std::vector<std::string>{kGoogle, "ok"});
  Trace clean = r.redact_trace(t);
  for (const auto& s : clean.spans) {
    EXPECT_EQ(s.name.find("sk-"), std::string::npos);
    EXPECT_EQ(s.status_message.find(kAnthropic), std::string::npos);
    for (const auto& a : s.attributes) {
      if (auto* str = std::get_if<std::string>(&a.value)) {
        EXPECT_EQ(str->find("sk-"), std::string::npos) << a.key;
      }
      if (auto* l = std::get_if<std::vector<std::string>>(&a.value)) {
        for (auto& i : *l) EXPECT_EQ(i.find("AIza"), std::string::npos);
      }
    }
  }
  EXPECT_EQ(std::get<std::string>(*clean.spans[2].find("http.request.header.authorization")), "[REDACTED]");
}

struct CaptureSink : TraceSink {
  std::vector<Trace> got;
  int flushes = 0;
  void on_trace(const Trace& t) override { got.push_back(t); }
  void flush() override { ++flushes; }
};

TEST(RedactingSink, StripsContentWhenCaptureOffAndFansOut) {
  auto a = std::make_unique<CaptureSink>();
  auto b = std::make_unique<CaptureSink>();
  auto *pa = a.get(), *pb = b.get();
  std::vector<std::unique_ptr<TraceSink>> sinks;
  sinks.push_back(std::move(a));
  sinks.push_back(std::move(b));
  RedactingSink sink(std::make_unique<FanoutSink>(std::move(sinks)), /*capture_content=*/false);
  sink.on_trace(testing::support_trace("0af7651916cd43dd8448eb211c80319c", kOpenAi));
  sink.flush();
  ASSERT_EQ(pa->got.size(), 1u);
  ASSERT_EQ(pb->got.size(), 1u);
  EXPECT_EQ(pa->flushes, 1);
  const auto& gen = pa->got[0].spans[2];
  EXPECT_EQ(gen.find("gen_ai.input.messages"), nullptr);
  EXPECT_NE(gen.find("gen_ai.usage.input_tokens"), nullptr);  // structure and usage stay
  EXPECT_EQ(pb->got[0].spans[5].find("gen_ai.tool.call.arguments"), nullptr);
}

// A sink that tells a trace it was given (take_trace) from one it was shown (on_trace).
struct TakingSink : CaptureSink {
  int taken = 0;
  void take_trace(Trace&& t) override {
    ++taken;
    got.push_back(std::move(t));
  }
};

std::string encoded(const Trace& t) {
  std::string out;
  codec::encode_trace(t, out);
  return out;
}

TEST(RedactingSink, ATakenTraceIsRedactedAsAShownOneAndTheLastSinkTakesIt) {
  for (bool capture : {false, true}) {
    auto shown = std::make_unique<TakingSink>();
    auto taking = std::make_unique<TakingSink>();
    auto *ps = shown.get(), *pt = taking.get();
    std::vector<std::unique_ptr<TraceSink>> sinks;
    sinks.push_back(std::move(shown));
    sinks.push_back(std::move(taking));
    RedactingSink sink(std::make_unique<FanoutSink>(std::move(sinks)), capture);
    auto reference = std::make_unique<CaptureSink>();
    auto* pr = reference.get();
    RedactingSink by_copy(std::move(reference), capture);
    const Trace input = testing::support_trace("0af7651916cd43dd8448eb211c80319c", kOpenAi);
    by_copy.on_trace(input);
    sink.take_trace(Trace(input));
    sink.on_trace(input);
    ASSERT_EQ(pr->got.size(), 1u);
    ASSERT_EQ(ps->got.size(), 2u);
    ASSERT_EQ(pt->got.size(), 2u);
    EXPECT_EQ(ps->taken, 0);  // the first sink is shown the trace the last one takes
    EXPECT_EQ(pt->taken, 2);
    for (const auto* got : {&ps->got[0], &ps->got[1], &pt->got[0], &pt->got[1]})
      EXPECT_EQ(encoded(*got), encoded(pr->got[0])) << "capture " << capture;
    EXPECT_NE(encoded(pr->got[0]), encoded(input));  // something was redacted
  }
}

TEST(RedactingSink, KeepsRedactedContentWhenCaptureOn) {
  auto a = std::make_unique<CaptureSink>();
  auto* pa = a.get();
  RedactingSink sink(std::move(a), /*capture_content=*/true);
  sink.on_trace(testing::support_trace("0af7651916cd43dd8448eb211c80319c", kOpenAi));
  const auto* msgs = pa->got.at(0).spans[2].find("gen_ai.input.messages");
  ASSERT_NE(msgs, nullptr);
  EXPECT_NE(std::get<std::string>(*msgs).find("my key is [REDACTED:openai_key]"), std::string::npos);
}

}  // namespace
}  // namespace llmtap::exporting
