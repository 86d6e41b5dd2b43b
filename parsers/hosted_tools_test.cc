// Hosted and server-side tools (issue 14 item 6): Responses web_search_call / mcp_list_tools /
// mcp_call / computer_call items and Anthropic server_tool_use with its *_tool_result blocks become
// ToolCalls with gen_ai.tool.type, arguments and (server-side) results, in requests and responses,
// whatever the chunk boundaries; the Responses `conversation` id is read.
#include <gtest/gtest.h>

#include "parsers/test_support.h"

namespace llmtap {
namespace {

using namespace testing;

std::vector<const ToolCall*> tool_calls(const std::vector<Message>& msgs) {
  std::vector<const ToolCall*> out;
  for (const auto& m : msgs)
    for (const auto& tc : m.tool_calls) out.push_back(&tc);
  return out;
}

ExchangeSpec stream_spec(const std::string& host, const std::string& target, const std::string& name,
                         const std::string& resp) {
  ExchangeSpec spec;
  spec.conn = ConnectionInfo{host, 443, true, "proxy", 0};
  spec.target = target;
  spec.host = host;
  spec.request_body = fixture(name + ".req.json");
  spec.response_body = fixture(resp);
  spec.content_type = "text/event-stream";
  return spec;
}

TEST(HostedTools, ResponsesStreamItemsAreToolCallsWithResultsAndTimes) {
  auto spec = stream_spec("api.openai.com", "/v1/responses", "responses_hosted_stream", "responses_hosted_stream.resp");
  for_each_feeding(spec, [](const ModelCall& c) {
    EXPECT_EQ(c.status, CallStatus::kComplete);
    EXPECT_EQ(c.conversation_id, "conv_h1");
    // Request: the replayed hosted item, the client-run computer call and its output.
    auto in = tool_calls(c.input);
    ASSERT_EQ(in.size(), 2u);
    EXPECT_EQ(in[0]->name, "web_search");
    EXPECT_TRUE(in[0]->server_side);
    EXPECT_EQ(in[1]->id, "call_cu1");
    EXPECT_EQ(in[1]->name, "computer");
    EXPECT_EQ(in[1]->tool_type, "function");
    EXPECT_FALSE(in[1]->server_side);
    bool answered = false;
    for (const auto& m : c.input)
      if (m.role == "tool" && m.tool_call_id == "call_cu1") answered = m.text.find("computer_screenshot") != std::string::npos;
    EXPECT_TRUE(answered);
    // Response: every hosted item, in order, with its result; text kept.
    ASSERT_EQ(c.output.size(), 1u);
    EXPECT_EQ(c.output[0].text, "Refunds are accepted within 30 days.");
    auto out = tool_calls(c.output);
    ASSERT_EQ(out.size(), 4u);
    EXPECT_EQ(out[0]->id, "ws_1");
    EXPECT_EQ(out[0]->name, "web_search");
    EXPECT_EQ(out[0]->tool_type, "extension");
    EXPECT_EQ(out[0]->arguments, R"({"query":"refund policy 30 days","sources":[{"type":"url","url":"https://shop.example.com/refunds"}],"type":"search"})");
    EXPECT_EQ(out[0]->result, R"([{"type":"url","url":"https://shop.example.com/refunds"}])");
    EXPECT_EQ(out[1]->name, "mcp_list_tools");
    EXPECT_EQ(out[1]->arguments, R"({"server_label":"docs"})");
    EXPECT_NE(out[1]->result.find("search_docs"), std::string::npos);
    EXPECT_EQ(out[2]->id, "mcp_1");
    EXPECT_EQ(out[2]->name, "search_docs");
    EXPECT_EQ(out[2]->arguments, R"({"q":"refund"})");
    EXPECT_EQ(out[2]->result, "Refunds within 30 days.");
    EXPECT_FALSE(out[2]->result_error);
    EXPECT_EQ(out[3]->name, "fetch_page");
    EXPECT_TRUE(out[3]->result_error);
    EXPECT_EQ(out[3]->result, "upstream timed out");
    for (const ToolCall* tc : out) {
      EXPECT_TRUE(tc->server_side) << tc->name;
      EXPECT_NE(tc->started_at, 0) << tc->name;
      EXPECT_LE(tc->started_at, tc->ready_at) << tc->name;
      EXPECT_LE(tc->ready_at, c.timings.content_end) << tc->name;
    }
  });
}

TEST(HostedTools, AnthropicServerToolUseWithItsResultBlocks) {
  auto spec = stream_spec("api.anthropic.com", "/v1/messages", "anthropic_server_tools", "anthropic_server_tools_stream.resp");
  for_each_feeding(spec, [](const ModelCall& c) {
    EXPECT_EQ(c.status, CallStatus::kComplete);
    auto in = tool_calls(c.input);
    ASSERT_EQ(in.size(), 1u);
    EXPECT_EQ(in[0]->id, "srvtoolu_old");
    EXPECT_TRUE(in[0]->server_side);
    EXPECT_NE(in[0]->result.find("shop.example.com/refunds"), std::string::npos);
    for (const auto& m : c.input) EXPECT_NE(m.role, "tool");  // a server result is not a client tool result
    ASSERT_EQ(c.output.size(), 1u);
    EXPECT_EQ(c.output[0].text, "Sale items: 14 days.");
    auto out = tool_calls(c.output);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0]->id, "srvtoolu_1");
    EXPECT_EQ(out[0]->tool_type, "extension");
    EXPECT_EQ(out[0]->arguments, R"({"query":"sale items refund"})");
    EXPECT_NE(out[0]->result.find("shop.example.com/sale"), std::string::npos);
    EXPECT_FALSE(out[0]->result_error);
    EXPECT_TRUE(out[1]->result_error);
    EXPECT_NE(out[1]->result.find("max_uses_exceeded"), std::string::npos);
    for (const ToolCall* tc : out) {
      EXPECT_NE(tc->started_at, 0);
      EXPECT_LT(tc->started_at, tc->ready_at + 1);
      EXPECT_LE(tc->ready_at, c.timings.content_end);
    }
  });
}

}  // namespace
}  // namespace llmtap
