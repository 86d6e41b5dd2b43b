// OpenAI Chat Completions and compatible servers, fed whole, split and compressed.
#include <gtest/gtest.h>

#include "parsers/record_matchers.h"
#include "parsers/test_support.h"

namespace llmtap {
namespace {

using namespace testing;

TEST(OpenAIChat, NonStreamTwoChoicesCachedAndReasoningUsageRefusal) {
  ExchangeSpec spec;
  spec.conn = ConnectionInfo{"api.openai.com", 443, true, "proxy", 0};
  spec.target = "/v1/chat/completions";
  spec.host = "api.openai.com";
  spec.request_headers = {"Authorization: Bearer sk-SECRET", "X-Api-Key: sk-SECRET2", "User-Agent: OpenAI/Python 1.99",
                          "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
                          "OpenAI-Project-Token: sk-SECRET3", "x-stainless-lang: python"};
  spec.request_body = fixture("chat_nonstream.req.json");
  spec.response_body = fixture("chat_nonstream.resp");
  for_each_feeding(spec, [](const ModelCall& c) {
    EXPECT_EQ(c.provider, "openai");
    EXPECT_EQ(c.api, "chat_completions");
    EXPECT_EQ(c.operation, "chat");
    EXPECT_EQ(c.host, "api.openai.com");
    EXPECT_EQ(c.method, "POST");
    EXPECT_EQ(c.path, "/v1/chat/completions");
    EXPECT_EQ(c.query, "");
    EXPECT_EQ(c.http_status, 200);
    EXPECT_EQ(c.connection_id, 7u);
    EXPECT_EQ(c.request_model, "gpt-4o-mini");
    EXPECT_FALSE(c.stream);
    EXPECT_EQ(c.n, 2);
    EXPECT_EQ(c.service_tier, "default");  // the response's tier overrides the requested "auto"
    EXPECT_EQ(c.system_instructions, "You are terse.\nUse tools when useful.");
    ASSERT_EQ(c.input.size(), 4u);
    expect_message(c.input[0], "user", "Weather in Paris?");
    expect_message(c.input[1], "assistant", "", "", {{"call_abc", "get_weather", "{\"city\":\"Paris\"}"}});
    expect_message(c.input[2], "tool", "18C sunny", "", {}, "call_abc");
    expect_message(c.input[3], "user", "And now?");
    ASSERT_EQ(c.tools.size(), 1u);
    EXPECT_EQ(c.tools[0].name, "get_weather");
    EXPECT_EQ(c.tools[0].schema_hash, "be45ab5b6d9f7d0b36dea2e7e355170888fb49d00124420f9e6f76c5d5620fc4");
    EXPECT_EQ(c.tool_choice, "get_weather");
    EXPECT_EQ(c.previous_response_id, "");
    EXPECT_EQ(c.traceparent, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    for (const auto& h : c.request_headers) {
      EXPECT_EQ(h.value.find("SECRET"), std::string::npos) << h.name;
    }
      ASSERT_EQ(c.request_headers.size(), 6u);  // Host, User-Agent, traceparent, x-stainless-lang, Content-Type, Content-Length
    EXPECT_EQ(c.response_model, "gpt-4o-mini-2024-07-18");
    EXPECT_EQ(c.response_id, "chatcmpl-123");
    ASSERT_EQ(c.output.size(), 2u);
    expect_message(c.output[0], "assistant", "Still 18C, sunny.");
    expect_message(c.output[1], "assistant", "I can't help with that.");
    EXPECT_EQ(c.finish_reasons, (std::vector<std::string>{"stop", "stop"}));
    expect_usage(c.usage, 176, 1024, 0, 0, 236, 64);
    EXPECT_EQ(c.status, CallStatus::kComplete);
    EXPECT_EQ(c.error_type, "");
    EXPECT_FALSE(c.truncated);
    EXPECT_FALSE(c.capture_gap);
    EXPECT_GE(c.timings.first_content_chunk, 2000);
    EXPECT_EQ(c.timings.response_end, c.timings.response_end);
  });
}

TEST(OpenAIChat, StreamParallelToolCallsWithIncludeUsage) {
  ExchangeSpec spec;
  spec.conn = ConnectionInfo{"api.openai.com", 443, true, "preload", 4242};
  spec.target = "/v1/chat/completions";
  spec.host = "api.openai.com";
  spec.content_type = "text/event-stream; charset=utf-8";
  spec.request_body = fixture("chat_stream_tools.req.json");
  spec.response_body = fixture("chat_stream_tools.resp");
  for_each_feeding(spec, [](const ModelCall& c) {
    EXPECT_EQ(c.provider, "openai");
    EXPECT_EQ(c.client_pid, 4242u);
    EXPECT_TRUE(c.stream);
    EXPECT_EQ(c.request_model, "gpt-4.1");
    EXPECT_EQ(c.tool_choice, "auto");
    ASSERT_EQ(c.tools.size(), 1u);
    EXPECT_EQ(c.tools[0].schema_hash, "fc0b1a9e7eab1cc05ffc017418fb27a021167b58285b7659e50609d161bbd816");
    ASSERT_EQ(c.input.size(), 1u);
    expect_message(c.input[0], "user", "Weather in Paris and Tokyo? \xE2\x9C\x93");
    EXPECT_EQ(c.response_id, "chatcmpl-9");
    EXPECT_EQ(c.response_model, "gpt-4.1-2025-04-14");
    EXPECT_EQ(c.service_tier, "default");
    ASSERT_EQ(c.output.size(), 1u);
    expect_message(c.output[0], "assistant", "", "",
                   {{"call_p", "get_weather", "{\"city\": \"Paris\"}"},
                    {"call_t", "get_weather", "{\"city\": \"T\xC5\x8Dky\xC5\x8D\"}"}});
    EXPECT_EQ(c.finish_reasons, (std::vector<std::string>{"tool_calls"}));
    expect_usage(c.usage, 82, 0, 0, 0, 40, 0);
    EXPECT_EQ(c.status, CallStatus::kComplete);
    expect_stream_timings(c);
  });
}

TEST(OpenAIChat, CompatibleServerUsageOnChoiceChunkNTwoCrLf) {
  ExchangeSpec spec;
  spec.conn = ConnectionInfo{"api.groq.com", 443, true, "proxy", 0};
  spec.target = "/openai/v1/chat/completions";
  spec.host = "api.groq.com";
  spec.content_type = "text/event-stream";
  spec.request_body = fixture("chat_stream_n2.req.json");
  spec.response_body = fixture("chat_stream_n2.resp");
  for_each_feeding(spec, [](const ModelCall& c) {
    EXPECT_EQ(c.provider, "groq");
    EXPECT_EQ(c.api, "chat_completions");
    EXPECT_EQ(c.path, "/openai/v1/chat/completions");
    EXPECT_EQ(c.n, 2);
    EXPECT_EQ(c.system_instructions, "A\nB");
    ASSERT_EQ(c.input.size(), 2u);
    expect_message(c.input[0], "user", "Hi");
    expect_message(c.input[1], "system", "late system");
    ASSERT_EQ(c.output.size(), 2u);
    expect_message(c.output[0], "assistant", "Hello \xE2\x82\xAC");
    expect_message(c.output[1], "assistant", "Hey", "think");
    EXPECT_EQ(c.finish_reasons, (std::vector<std::string>{"stop", "length"}));
    expect_usage(c.usage, 10, 0, 0, 0, 7, 0);
    EXPECT_EQ(c.response_model, "llama-3.3-70b-versatile");
    EXPECT_EQ(c.status, CallStatus::kComplete);
  });
}

TEST(OpenAIChat, AzureDeploymentNamesTheModel) {
  ExchangeSpec spec;
  spec.conn = ConnectionInfo{"myres.openai.azure.com", 443, true, "proxy", 0};
  spec.target = "/openai/deployments/gpt4o-prod/chat/completions?api-version=2024-10-21";
  spec.host = "myres.openai.azure.com";
  spec.request_headers = {"api-key: azure-SECRET"};
  spec.request_body = fixture("azure_chat.req.json");
  spec.response_body = fixture("azure_chat.resp");
  for_each_feeding(spec, [](const ModelCall& c) {
    EXPECT_EQ(c.provider, "azure_openai");
    EXPECT_EQ(c.api, "chat_completions");
    EXPECT_EQ(c.path, "/openai/deployments/gpt4o-prod/chat/completions");
    EXPECT_EQ(c.query, "api-version=2024-10-21");
    EXPECT_EQ(c.request_model, "gpt4o-prod");
    EXPECT_EQ(c.response_model, "gpt-4o-2024-11-20");
    for (const auto& h : c.request_headers) EXPECT_EQ(h.value.find("SECRET"), std::string::npos);
    ASSERT_EQ(c.output.size(), 1u);
    expect_message(c.output[0], "assistant", "Hello");
    EXPECT_EQ(c.finish_reasons, (std::vector<std::string>{"length"}));
    expect_usage(c.usage, 9, 0, 0, 0, 5, 0);
  }, false);
}

TEST(OpenAIChat, RateLimitErrorBody) {
  ExchangeSpec spec;
  spec.conn = ConnectionInfo{"127.0.0.1", 8080, false, "gateway", 0};
  spec.target = "/openai/v1/chat/completions";
  spec.host = "127.0.0.1:8080";
  spec.status = 429;
  spec.request_body = fixture("azure_chat.req.json");
  spec.response_body = fixture("error_429.resp");
  for_each_feeding(spec, [](const ModelCall& c) {
    EXPECT_EQ(c.provider, "openai");
    EXPECT_EQ(c.host, "api.openai.com");
    EXPECT_EQ(c.path, "/v1/chat/completions");
    EXPECT_EQ(c.http_status, 429);
    EXPECT_EQ(c.status, CallStatus::kError);
    EXPECT_EQ(c.error_type, "requests");
    EXPECT_EQ(c.error_message, "Rate limit reached for gpt-4o in organization org-x on tokens per min.");
    EXPECT_TRUE(c.output.empty());
    EXPECT_FALSE(c.usage.present);
  }, false);
}

TEST(OpenAIChat, InvalidJsonEventMarksIncompleteButKeepsTheRest) {
  std::string body =
      "data: {\"id\":\"x\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"ok\"}}]}\n\n"
      "data: {not json\n\n"
      "data: {\"id\":\"x\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"unknown_field\":1}\n\n"
      "data: [DONE]\n\n";
  auto calls = run_exchange(ConnectionInfo{"api.openai.com", 443, true, "proxy", 0},
                            http_request("POST", "/v1/chat/completions", "api.openai.com", "{\"model\":\"m\",\"stream\":true}"),
                            http_response(200, "text/event-stream", body), {}, {});
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].status, CallStatus::kIncomplete);
  ASSERT_EQ(calls[0].output.size(), 1u);
  EXPECT_EQ(calls[0].output[0].text, "ok");
  EXPECT_FALSE(calls[0].usage.present);
}

TEST(OpenAIChat, ErrorChunkInStream) {
  std::string body = "data: {\"error\":{\"message\":\"The server had an error\",\"type\":\"server_error\"}}\n\n";
  auto calls = run_exchange(ConnectionInfo{"api.openai.com", 443, true, "proxy", 0},
                            http_request("POST", "/v1/chat/completions", "api.openai.com", "{\"model\":\"m\",\"stream\":true}"),
                            http_response(200, "text/event-stream", body), {}, {});
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].status, CallStatus::kError);
  EXPECT_EQ(calls[0].error_type, "server_error");
  EXPECT_EQ(calls[0].error_message, "The server had an error");
}

TEST(OpenAIChat, WrongContentEncodingIsIncompleteNotACrash) {
  auto calls = run_exchange(ConnectionInfo{"api.openai.com", 443, true, "proxy", 0},
                            http_request("POST", "/v1/chat/completions", "api.openai.com", fixture("azure_chat.req.json")),
                            http_response(200, "application/json", fixture("azure_chat.resp"), "gzip"), {}, {});
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].status, CallStatus::kIncomplete);
  EXPECT_EQ(calls[0].error_type, "content_decoding");
}

}  // namespace
}  // namespace llmtap

namespace llmtap {
namespace {

TEST(OpenAIChat, EventStreamWithoutItsContentTypeIsStillParsed) {
  using namespace testing;
  ExchangeSpec spec;
  spec.conn = ConnectionInfo{"api.openai.com", 443, true, "proxy", 0};
  spec.target = "/v1/chat/completions";
  spec.host = "api.openai.com";
  spec.content_type = "text/plain";
  spec.request_body = fixture("chat_stream_tools.req.json");
  spec.response_body = fixture("chat_stream_tools.resp");
  for_each_feeding(spec, [](const ModelCall& c) {
    EXPECT_TRUE(c.stream);
    ASSERT_EQ(c.output.size(), 1u);
    EXPECT_EQ(c.output[0].tool_calls.size(), 2u);
    expect_usage(c.usage, 82, 0, 0, 0, 40, 0);
    EXPECT_EQ(c.status, CallStatus::kComplete);
  }, false);
}

}  // namespace
}  // namespace llmtap

namespace llmtap {
namespace {

TEST(OpenAIChat, StreamWithoutIncludeUsageHasNoUsageAndKeepsRefusal) {
  using namespace testing;
  ExchangeSpec spec;
  spec.conn = ConnectionInfo{"api.openai.com", 443, true, "proxy", 0};
  spec.target = "/v1/chat/completions";
  spec.host = "api.openai.com";
  spec.content_type = "text/event-stream";
  spec.request_body = fixture("chat_stream_nousage.req.json");
  spec.response_body = fixture("chat_stream_nousage.resp");
  for_each_feeding(spec, [](const ModelCall& c) {
    EXPECT_TRUE(c.stream);
    EXPECT_EQ(c.request_model, "gpt-4o");
    EXPECT_EQ(c.response_model, "gpt-4o-2024-08-06");
    EXPECT_EQ(c.response_id, "chatcmpl-r");
    EXPECT_EQ(c.service_tier, "");
    ASSERT_EQ(c.output.size(), 1u);
    expect_message(c.output[0], "assistant", "I can't help with that.");
    EXPECT_EQ(c.finish_reasons, (std::vector<std::string>{"stop"}));
    EXPECT_FALSE(c.usage.present);
    EXPECT_EQ(c.usage.input_total(), 0);
    EXPECT_EQ(c.status, CallStatus::kComplete);
    expect_stream_timings(c);
  });
}

TEST(OpenAIChat, RegistryDeclaredHostViaParserOptions) {
  using namespace testing;
  auto reg = std::make_shared<ProviderRegistry>();
  reg->add("vllm.internal:8000", "vllm");
  ParserOptions opts;
  opts.registry = reg;
  auto calls = run_exchange(ConnectionInfo{"vllm.internal", 8000, false, "proxy", 0},
                            http_request("POST", "/v1/chat/completions", "vllm.internal:8000", fixture("azure_chat.req.json")),
                            http_response(200, "application/json", fixture("azure_chat.resp")), {}, {}, opts);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].provider, "vllm");
  EXPECT_EQ(calls[0].api, "chat_completions");
  EXPECT_EQ(calls[0].host, "vllm.internal");
  expect_usage(calls[0].usage, 9, 0, 0, 0, 5, 0);
}

}  // namespace
}  // namespace llmtap
