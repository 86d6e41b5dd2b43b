// Ill-formed UTF-8 in bodies: the client gets the bytes as sent (the parsers never touch the
// forwarded stream); the record keeps its usage and content, the bad bytes read as U+FFFD, and the
// call is not marked incomplete. Fixtures *_bad_utf8.* are the valid ones with a few bytes broken,
// fed whole, at every split point (so the bad bytes straddle chunk boundaries) and compressed.
#include <gtest/gtest.h>

#include "parsers/json_fields.h"
#include "parsers/record_matchers.h"
#include "parsers/test_support.h"

namespace llmtap {
namespace {

using namespace testing;

const std::string kFffd = "\xEF\xBF\xBD";

TEST(InvalidUtf8, JsonReaderReplacesEachBadSequenceAndKeepsTheRest) {
  struct Case {
    std::string in, want;
  } cases[] = {
      {"stray \xFF byte", "stray " + kFffd + " byte"},
      {"lone \x80 continuation", "lone " + kFffd + " continuation"},
      {"cut \xE2\x82 euro", "cut " + kFffd + " euro"},
      {"overlong \xC0\xAF slash", "overlong " + kFffd + " slash"},
      {"surrogate \xED\xA0\x80 half", "surrogate " + kFffd + " half"},
      {"beyond \xF4\x90\x80\x80 max", "beyond " + kFffd + " max"},
      {"valid \xE2\x82\xAC \xF0\x9F\x98\x80", "valid \xE2\x82\xAC \xF0\x9F\x98\x80"},
  };
  for (const auto& c : cases) {
    auto j = json_fields::parse("{\"text\":\"" + c.in + "\",\"usage\":{\"n\":7}}");
    ASSERT_FALSE(j.is_discarded()) << c.in;
    EXPECT_EQ(json_fields::str(j, "text"), c.want) << c.in;
    EXPECT_EQ(json_fields::i64(json_fields::at(j, "usage"), "n"), 7);
  }
  // Still not JSON: broken UTF-8 does not make a broken document parse.
  EXPECT_TRUE(json_fields::parse("{\"text\":\"\xFF").is_discarded());
  EXPECT_TRUE(json_fields::parse("\xFF{}").is_discarded());
}

// An OpenAI chat exchange through the proxy; CONTENT_TYPE "" keeps the JSON default.
ExchangeSpec openai_chat(const std::string& req, const std::string& resp, const std::string& content_type = "") {
  ExchangeSpec spec{.conn = ConnectionInfo{"api.openai.com", 443, true, "proxy", 0},
                    .target = "/v1/chat/completions",
                    .host = "api.openai.com",
                    .request_body = fixture(req),
                    .request_headers = {},
                    .response_body = fixture(resp)};
  if (!content_type.empty()) spec.content_type = content_type;
  return spec;
}

TEST(InvalidUtf8, NonStreamContentKeepsUsageAndIsComplete) {
  for_each_feeding(openai_chat("chat_nonstream.req.json", "chat_nonstream_bad_utf8.resp"), [](const ModelCall& c) {
    EXPECT_EQ(c.response_model, "gpt-4o-mini-2024-07-18");
    ASSERT_EQ(c.output.size(), 2u);
    expect_message(c.output[0], "assistant", "Still 18C" + kFffd + ", sun" + kFffd + "ny.");
    expect_usage(c.usage, 176, 1024, 0, 0, 236, 64);
    EXPECT_EQ(c.status, CallStatus::kComplete);
  });
}

TEST(InvalidUtf8, StreamedToolArgumentAndRequestKeepUsage) {
  for_each_feeding(openai_chat("chat_stream_tools_bad_utf8.req.json", "chat_stream_tools_bad_utf8.resp",
                               "text/event-stream"), [](const ModelCall& c) {
    EXPECT_EQ(c.request_model, "gpt-4.1");
    ASSERT_EQ(c.input.size(), 1u);
    expect_message(c.input[0], "user", "Weather in Paris and Tokyo? " + kFffd + kFffd);
    ASSERT_EQ(c.output.size(), 1u);
    expect_message(c.output[0], "assistant", "", "",
                   {{"call_p", "get_weather", "{\"city\": \"Paris\"}"},
                    {"call_t", "get_weather", "{\"city\": \"T" + kFffd + "ky\xC5\x8D\"}"}});
    expect_usage(c.usage, 82, 0, 0, 0, 40, 0);
    EXPECT_EQ(c.status, CallStatus::kComplete);
  });
}

TEST(InvalidUtf8, AnthropicTextDeltaKeepsUsage) {
  ExchangeSpec spec{.conn = ConnectionInfo{"127.0.0.1", 8080, false, "gateway", 0},
                    .target = "/anthropic/v1/messages",
                    .host = "127.0.0.1:8080",
                    .request_body = fixture("anthropic_stream.req.json"),
                    .request_headers = {},
                    .status = 200,
                    .content_type = "text/event-stream",
                    .response_body = fixture("anthropic_stream_bad_utf8.resp")};
  for_each_feeding(spec, [](const ModelCall& c) {
    ASSERT_EQ(c.output.size(), 1u);
    expect_message(c.output[0], "assistant", "It is 4 " + kFffd + ".", "2+2 is 4.",
                   {{"toolu_s2", "calc", "{\"expr\":\"2+2\"}"}});
    expect_usage(c.usage, 472, 0, 200, 0, 89, 0);
    EXPECT_EQ(c.status, CallStatus::kComplete);
  });
}

}  // namespace
}  // namespace llmtap
