// Anthropic Messages: content blocks, thinking, tool use/results, cache usage split, streams.
#include <gtest/gtest.h>

#include "parsers/record_matchers.h"
#include "parsers/test_support.h"

namespace llmtap {
namespace {

using namespace testing;

TEST(AnthropicMessages, NonStreamBlocksAndCacheSplit) {
  ExchangeSpec spec;
  spec.conn = ConnectionInfo{"api.anthropic.com", 443, true, "proxy", 0};
  spec.target = "/v1/messages";
  spec.host = "api.anthropic.com";
  spec.request_headers = {"x-api-key: sk-ant-SECRET", "anthropic-version: 2023-06-01"};
  spec.request_body = fixture("anthropic_nonstream.req.json");
  spec.response_body = fixture("anthropic_nonstream.resp");
  for_each_feeding(spec, [](const ModelCall& c) {
    EXPECT_EQ(c.provider, "anthropic");
    EXPECT_EQ(c.api, "anthropic_messages");
    EXPECT_EQ(c.operation, "chat");
    EXPECT_EQ(c.request_model, "claude-sonnet-4-5");
    EXPECT_FALSE(c.stream);
    EXPECT_EQ(c.system_instructions, "You are a coding agent.\nBe careful.");
    ASSERT_EQ(c.input.size(), 4u);
    expect_message(c.input[0], "user", "List files");
    expect_message(c.input[1], "assistant", "Running ls.", "Use ls.",
                   {{"toolu_01", "bash", "{\"cmd\":\"ls\",\"flags\":[\"-l\"]}"}});
    expect_message(c.input[2], "tool", "permission denied", "", {}, "toolu_01", "", true);
    expect_message(c.input[3], "user", "Try again");
    ASSERT_EQ(c.tools.size(), 1u);
    EXPECT_EQ(c.tools[0].name, "bash");
    EXPECT_EQ(c.tools[0].schema_hash, "6b6aa05b02bf9dc49e10132bf78644c28a70c61d833c1abb728327e48c569d34");
    EXPECT_EQ(c.tool_choice, "required");
    for (const auto& h : c.request_headers) EXPECT_EQ(h.value.find("SECRET"), std::string::npos);
    EXPECT_EQ(c.response_id, "msg_01XFDUDYJgAACzvnptvVoYEL");
    EXPECT_EQ(c.response_model, "claude-sonnet-4-5-20250929");
    ASSERT_EQ(c.output.size(), 1u);
    expect_message(c.output[0], "assistant", "Retrying.", "Maybe sudo.", {{"toolu_02", "bash", "{\"cmd\":\"sudo ls\"}"}});
    EXPECT_EQ(c.finish_reasons, (std::vector<std::string>{"tool_use"}));
    expect_usage(c.usage, 25, 10000, 1000, 2000, 150, 0);
    EXPECT_EQ(c.service_tier, "standard");
    EXPECT_EQ(c.status, CallStatus::kComplete);
  });
}

TEST(AnthropicMessages, StreamThinkingTextToolInputAndMergedUsageViaGateway) {
  ExchangeSpec spec;
  spec.conn = ConnectionInfo{"127.0.0.1", 8080, false, "gateway", 0};
  spec.target = "/anthropic/v1/messages";
  spec.host = "127.0.0.1:8080";
  spec.content_type = "text/event-stream";
  spec.request_body = fixture("anthropic_stream.req.json");
  spec.response_body = fixture("anthropic_stream.resp");
  for_each_feeding(spec, [](const ModelCall& c) {
    EXPECT_EQ(c.provider, "anthropic");
    EXPECT_EQ(c.host, "api.anthropic.com");
    EXPECT_EQ(c.path, "/v1/messages");
    EXPECT_TRUE(c.stream);
    EXPECT_EQ(c.request_model, "claude-opus-4-1");
    EXPECT_EQ(c.system_instructions, "Plain system.");
    EXPECT_EQ(c.tool_choice, "calc");
    ASSERT_EQ(c.tools.size(), 1u);
    EXPECT_EQ(c.tools[0].schema_hash, "7daf13e909c509da60b7ebd3f26e736b82167db674fbc258b6fb0196259c1d4b");
    ASSERT_EQ(c.input.size(), 1u);
    expect_message(c.input[0], "user", "What is 2+2? Then call calc.");
    EXPECT_EQ(c.response_id, "msg_s1");
    EXPECT_EQ(c.response_model, "claude-opus-4-1-20250805");
    ASSERT_EQ(c.output.size(), 1u);
    expect_message(c.output[0], "assistant", "It is 4 \xE2\x98\xBA.", "2+2 is 4.",
                   {{"toolu_s2", "calc", "{\"expr\":\"2+2\"}"}});
    EXPECT_EQ(c.finish_reasons, (std::vector<std::string>{"tool_use"}));
    expect_usage(c.usage, 472, 0, 200, 0, 89, 0);  // input from message_start, output from message_delta
    EXPECT_EQ(c.status, CallStatus::kComplete);
    expect_stream_timings(c);
  });
}

TEST(AnthropicMessages, StreamErrorEvent) {
  ExchangeSpec spec;
  spec.conn = ConnectionInfo{"api.anthropic.com", 443, true, "proxy", 0};
  spec.target = "/v1/messages";
  spec.host = "api.anthropic.com";
  spec.content_type = "text/event-stream";
  spec.request_body = fixture("anthropic_stream_error.req.json");
  spec.response_body = fixture("anthropic_stream_error.resp");
  for_each_feeding(spec, [](const ModelCall& c) {
    EXPECT_EQ(c.status, CallStatus::kError);
    EXPECT_EQ(c.error_type, "overloaded_error");
    EXPECT_EQ(c.error_message, "Overloaded");
    ASSERT_EQ(c.output.size(), 1u);
    expect_message(c.output[0], "assistant", "Hel");
    expect_usage(c.usage, 10, 0, 0, 0, 1, 0);
  }, false);
}

TEST(AnthropicMessages, HttpErrorBody) {
  ExchangeSpec spec;
  spec.conn = ConnectionInfo{"api.anthropic.com", 443, true, "proxy", 0};
  spec.target = "/v1/messages";
  spec.host = "api.anthropic.com";
  spec.status = 400;
  spec.request_body = "{\"model\":\"claude-x\"}";
  spec.response_body = fixture("anthropic_error_400.resp");
  for_each_feeding(spec, [](const ModelCall& c) {
    EXPECT_EQ(c.status, CallStatus::kError);
    EXPECT_EQ(c.error_type, "invalid_request_error");
    EXPECT_EQ(c.error_message, "max_tokens: field required");
    EXPECT_EQ(c.request_model, "claude-x");
  }, false);
}

TEST(AnthropicMessages, CutInsideToolInputKeepsRawArguments) {
  std::string body = fixture("anthropic_stream.resp");
  body = body.substr(0, body.find("+2\\\"}"));
  auto calls = run_exchange(ConnectionInfo{"api.anthropic.com", 443, true, "proxy", 0},
                            http_request("POST", "/v1/messages", "api.anthropic.com", fixture("anthropic_stream.req.json")),
                            http_response(200, "text/event-stream", body), {}, {});
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].status, CallStatus::kIncomplete);
  ASSERT_EQ(calls[0].output.size(), 1u);
  ASSERT_EQ(calls[0].output[0].tool_calls.size(), 1u);
  EXPECT_EQ(calls[0].output[0].tool_calls[0].arguments, "{\"expr\": \"2");
  expect_usage(calls[0].usage, 472, 0, 200, 0, 2, 0);
}

}  // namespace
}  // namespace llmtap
