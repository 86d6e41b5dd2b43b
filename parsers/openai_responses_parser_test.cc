// OpenAI Responses API: non-stream, every stream event, failure, incomplete and error events.
#include <gtest/gtest.h>

#include "parsers/record_matchers.h"
#include "parsers/test_support.h"

namespace llmtap {
namespace {

using namespace testing;

ExchangeSpec responses_spec(const std::string& name, const std::string& resp_file, const std::string& ctype) {
  ExchangeSpec spec;
  spec.conn = ConnectionInfo{"api.openai.com", 443, true, "proxy", 0};
  spec.target = "/v1/responses";
  spec.host = "api.openai.com";
  spec.request_body = fixture(name + ".req.json");
  spec.response_body = fixture(resp_file);
  spec.content_type = ctype;
  return spec;
}

TEST(OpenAIResponses, NonStreamItemsReasoningCallsAndCacheWrites) {
  for_each_feeding(responses_spec("responses_nonstream", "responses_nonstream.resp", "application/json"),
                   [](const ModelCall& c) {
    EXPECT_EQ(c.provider, "openai");
    EXPECT_EQ(c.api, "responses");
    EXPECT_EQ(c.operation, "chat");
    EXPECT_EQ(c.request_model, "o4-mini");
    EXPECT_FALSE(c.stream);
    EXPECT_EQ(c.system_instructions, "You are a weather bot.");
    EXPECT_EQ(c.previous_response_id, "resp_prev1");
    EXPECT_EQ(c.service_tier, "flex");
    ASSERT_EQ(c.input.size(), 5u);
    expect_message(c.input[0], "user", "Weather in Paris?");
    expect_message(c.input[1], "assistant", "", "Need the tool.");
    expect_message(c.input[2], "assistant", "", "", {{"call_w1", "get_weather", "{\"city\":\"Paris\"}"}});
    expect_message(c.input[3], "tool", "18C", "", {}, "call_w1");
    expect_message(c.input[4], "user", "Thanks.\nAnd Rome?");
    ASSERT_EQ(c.tools.size(), 2u);
    EXPECT_EQ(c.tools[0].name, "get_weather");
    EXPECT_EQ(c.tools[0].schema_hash, "fc0b1a9e7eab1cc05ffc017418fb27a021167b58285b7659e50609d161bbd816");
    EXPECT_EQ(c.tools[1].name, "web_search_preview");
    EXPECT_EQ(c.tools[1].schema_hash, "");
    EXPECT_EQ(c.tool_choice, "required");
    EXPECT_EQ(c.response_id, "resp_67ccd2bed1ec8190");
    EXPECT_EQ(c.response_model, "o4-mini-2025-04-16");
    ASSERT_EQ(c.output.size(), 1u);
    expect_message(c.output[0], "assistant", "Checking Rome.", "Call again.\nFor Rome.",
                   {{"call_w2", "get_weather", "{\"city\":\"Rome\"}"}});
    EXPECT_EQ(c.finish_reasons, (std::vector<std::string>{"completed"}));
    expect_usage(c.usage, 200, 1500, 300, 0, 116, 384);
    EXPECT_EQ(c.status, CallStatus::kComplete);
  });
}

TEST(OpenAIResponses, StreamEveryEventKind) {
  for_each_feeding(responses_spec("responses_stream", "responses_stream.resp", "text/event-stream"),
                   [](const ModelCall& c) {
    EXPECT_TRUE(c.stream);
    EXPECT_EQ(c.request_model, "gpt-5");
    ASSERT_EQ(c.input.size(), 1u);
    expect_message(c.input[0], "user", "Say hi, then call ping.");
    ASSERT_EQ(c.tools.size(), 1u);
    EXPECT_EQ(c.tools[0].schema_hash, "efddc7bd8bbcef73a14eb1ace1ffdaec81e518ef1e13c1e9271d0b8acb694a49");
    EXPECT_EQ(c.response_id, "resp_s1");
    EXPECT_EQ(c.response_model, "gpt-5-2025-08-07");
    EXPECT_EQ(c.service_tier, "default");
    ASSERT_EQ(c.output.size(), 1u);
    expect_message(c.output[0], "assistant", "Hi there!", "Greet first.", {{"call_p9", "ping", "{}"}});
    EXPECT_EQ(c.finish_reasons, (std::vector<std::string>{"completed"}));
    expect_usage(c.usage, 50, 0, 0, 0, 20, 100);
    EXPECT_EQ(c.status, CallStatus::kComplete);
    expect_stream_timings(c);
  });
}

TEST(OpenAIResponses, StreamFailedKeepsPartialOutput) {
  for_each_feeding(responses_spec("responses_failed", "responses_failed.resp", "text/event-stream"),
                   [](const ModelCall& c) {
    EXPECT_EQ(c.system_instructions, "");
    ASSERT_EQ(c.input.size(), 2u);
    expect_message(c.input[0], "developer", "Be brief.");
    expect_message(c.input[1], "user", "Go");
    EXPECT_EQ(c.status, CallStatus::kError);
    EXPECT_EQ(c.error_type, "server_error");
    EXPECT_EQ(c.error_message, "The model failed to generate a response.");
    EXPECT_EQ(c.finish_reasons, (std::vector<std::string>{"failed"}));
    ASSERT_EQ(c.output.size(), 1u);
    expect_message(c.output[0], "assistant", "Partial");
    EXPECT_FALSE(c.usage.present);
  }, false);
}

TEST(OpenAIResponses, IncompleteStatusIsAFinishReason) {
  for_each_feeding(responses_spec("responses_incomplete", "responses_incomplete.resp", "application/json"),
                   [](const ModelCall& c) {
    EXPECT_EQ(c.status, CallStatus::kComplete);
    EXPECT_EQ(c.finish_reasons, (std::vector<std::string>{"incomplete:max_output_tokens"}));
    ASSERT_EQ(c.output.size(), 1u);
    expect_message(c.output[0], "assistant", "Once upon");
    expect_usage(c.usage, 12, 0, 0, 0, 16, 0);
  }, false);
}

TEST(OpenAIResponses, ErrorEvent) {
  for_each_feeding(responses_spec("responses_error_event", "responses_error_event.resp", "text/event-stream"),
                   [](const ModelCall& c) {
    EXPECT_EQ(c.status, CallStatus::kError);
    EXPECT_EQ(c.error_type, "rate_limit_exceeded");
    EXPECT_EQ(c.error_message, "Rate limit reached");
    EXPECT_EQ(c.response_id, "resp_e1");
    EXPECT_TRUE(c.output.empty());
  }, false);
}

TEST(OpenAIResponses, StreamCutBeforeTerminalEventRebuildsFromDeltas) {
  std::string body = fixture("responses_stream.resp");
  body = body.substr(0, body.find("event: response.output_item.done\ndata: {\"type\":\"response.output_item.done\",\"sequence_number\":13"));
  auto calls = run_exchange(ConnectionInfo{"api.openai.com", 443, true, "proxy", 0},
                            http_request("POST", "/v1/responses", "api.openai.com", fixture("responses_stream.req.json")),
                            http_response(200, "text/event-stream", body), {}, {});
  ASSERT_EQ(calls.size(), 1u);
  const ModelCall& c = calls[0];
  EXPECT_EQ(c.status, CallStatus::kIncomplete);
  ASSERT_EQ(c.output.size(), 1u);
  expect_message(c.output[0], "assistant", "Hi there!", "Greet first.");
  EXPECT_TRUE(c.finish_reasons.empty());
  EXPECT_FALSE(c.usage.present);
}

}  // namespace
}  // namespace llmtap
