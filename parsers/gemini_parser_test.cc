// Gemini generateContent and both streamGenerateContent framings.
#include <gtest/gtest.h>

#include "parsers/record_matchers.h"
#include "parsers/test_support.h"

namespace llmtap {
namespace {

using namespace testing;

ExchangeSpec gemini_spec(const std::string& target) {
  ExchangeSpec spec;
  spec.conn = ConnectionInfo{"generativelanguage.googleapis.com", 443, true, "proxy", 0};
  spec.target = target;
  spec.host = "generativelanguage.googleapis.com";
  spec.request_headers = {"x-goog-api-key: AIza-SECRET", "x-goog-api-client: genai-py/1.0"};
  return spec;
}

TEST(Gemini, GenerateContentFunctionCallsIdsAndUsage) {
  ExchangeSpec spec = gemini_spec("/v1beta/models/gemini-2.5-flash:generateContent");
  spec.request_body = fixture("gemini_nonstream.req.json");
  spec.response_body = fixture("gemini_nonstream.resp");
  for_each_feeding(spec, [](const ModelCall& c) {
    EXPECT_EQ(c.provider, "gemini");
    EXPECT_EQ(c.api, "gemini");
    EXPECT_EQ(c.operation, "generate_content");
    EXPECT_EQ(c.path, "/v1beta/models/gemini-2.5-flash:generateContent");
    EXPECT_EQ(c.request_model, "gemini-2.5-flash");
    EXPECT_FALSE(c.stream);
    EXPECT_EQ(c.system_instructions, "You are a travel agent.\nAnswer briefly.");
    ASSERT_EQ(c.input.size(), 4u);
    expect_message(c.input[0], "user", "Weather in Paris and Rome?");
    expect_message(c.input[1], "assistant", "", "",
                   {{"get_weather#0", "get_weather", "{\"city\":\"Paris\"}"},
                    {"get_weather#1", "get_weather", "{\"city\":\"Rome\"}"}});
    expect_message(c.input[2], "tool", "{\"temp\":18}", "", {}, "get_weather#0", "get_weather");
    expect_message(c.input[3], "tool", "{\"temp\":25}", "", {}, "get_weather#1", "get_weather");
    ASSERT_EQ(c.tools.size(), 2u);
    EXPECT_EQ(c.tools[0].name, "get_weather");
    EXPECT_EQ(c.tools[0].schema_hash, "0b5415121231f0996fb1976f442cdac2a4679cc7eddae25a9b38bd5128d411ab");
    EXPECT_EQ(c.tools[1].name, "book");
    EXPECT_EQ(c.tools[1].schema_hash, "1843d115b48b9cf6df2431a42671f3a4da65af94a4bde3736dc7493e4b2896e4");
    EXPECT_EQ(c.tool_choice, "book");
    for (const auto& h : c.request_headers) EXPECT_EQ(h.value.find("SECRET"), std::string::npos);
    EXPECT_EQ(c.response_id, "mAitaLmkHPPlz7IPvtfUqQ4");
    EXPECT_EQ(c.response_model, "gemini-2.5-flash");
    ASSERT_EQ(c.output.size(), 1u);
    // The new call continues the conversation's numbering, so the next request re-sends it as book#2.
    expect_message(c.output[0], "assistant", "Paris 18, Rome 25.", "Booking now.", {{"book#2", "book", "{\"city\":\"Rome\"}"}});
    EXPECT_EQ(c.finish_reasons, (std::vector<std::string>{"STOP"}));
    expect_usage(c.usage, 1010, 4000, 0, 0, 40, 250);
    EXPECT_EQ(c.status, CallStatus::kComplete);
  });
}

void expect_count_stream(const ModelCall& c) {
  EXPECT_EQ(c.provider, "gemini");
  EXPECT_EQ(c.request_model, "gemini-2.5-pro");
  EXPECT_TRUE(c.stream);
  ASSERT_EQ(c.input.size(), 1u);
  expect_message(c.input[0], "user", "Count to three");
  EXPECT_EQ(c.response_id, "r-1");
  EXPECT_EQ(c.response_model, "gemini-2.5-pro");
  ASSERT_EQ(c.output.size(), 1u);
  expect_message(c.output[0], "assistant", "One, two, three.");
  EXPECT_EQ(c.finish_reasons, (std::vector<std::string>{"STOP"}));
  expect_usage(c.usage, 6, 0, 0, 0, 5, 20);
  EXPECT_EQ(c.status, CallStatus::kComplete);
  expect_stream_timings(c);
}

TEST(Gemini, StreamGenerateContentSse) {
  ExchangeSpec spec = gemini_spec("/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse");
  spec.content_type = "text/event-stream";
  spec.request_body = fixture("gemini_stream.req.json");
  spec.response_body = fixture("gemini_stream.sse");
  for_each_feeding(spec, [](const ModelCall& c) {
    EXPECT_EQ(c.query, "alt=sse");
    expect_count_stream(c);
  });
}

TEST(Gemini, StreamGenerateContentJsonArray) {
  ExchangeSpec spec = gemini_spec("/v1beta/models/gemini-2.5-pro:streamGenerateContent");
  spec.content_type = "application/json; charset=UTF-8";
  spec.request_body = fixture("gemini_stream.req.json");
  spec.response_body = fixture("gemini_stream.array");
  for_each_feeding(spec, [](const ModelCall& c) { expect_count_stream(c); });
}

TEST(Gemini, JsonArrayStreamCutMidElementIsIncomplete) {
  std::string body = fixture("gemini_stream.array");
  body = body.substr(0, body.find("three"));
  auto calls = run_exchange(ConnectionInfo{"generativelanguage.googleapis.com", 443, true, "proxy", 0},
                            http_request("POST", "/v1beta/models/gemini-2.5-pro:streamGenerateContent",
                                         "generativelanguage.googleapis.com", fixture("gemini_stream.req.json")),
                            http_response(200, "application/json", body), {}, {});
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].status, CallStatus::kIncomplete);
  ASSERT_EQ(calls[0].output.size(), 1u);
  EXPECT_EQ(calls[0].output[0].text, "One, two,");
  EXPECT_TRUE(calls[0].finish_reasons.empty());
}

TEST(Gemini, ErrorBody) {
  ExchangeSpec spec = gemini_spec("/gemini/v1beta/models/gemini-2.5-pro:generateContent");
  spec.conn = ConnectionInfo{"127.0.0.1", 8080, false, "gateway", 0};
  spec.status = 400;
  spec.request_body = fixture("gemini_stream.req.json");
  spec.response_body = fixture("gemini_error_400.resp");
  for_each_feeding(spec, [](const ModelCall& c) {
    EXPECT_EQ(c.provider, "gemini");
    EXPECT_EQ(c.host, "generativelanguage.googleapis.com");
    EXPECT_EQ(c.path, "/v1beta/models/gemini-2.5-pro:generateContent");
    EXPECT_EQ(c.status, CallStatus::kError);
    EXPECT_EQ(c.error_type, "INVALID_ARGUMENT");
    EXPECT_EQ(c.error_message, "API key not valid. Please pass a valid API key.");
  }, false);
}

}  // namespace
}  // namespace llmtap
