// When each streamed tool call was complete (ToolCall::ready_at), and when a stream is complete
// although its framing was cut after the terminal event. Fixtures fed at random chunk boundaries;
// chunk k of the response arrives at 2000+k (test_support.h), so the expected time is the chunk
// holding the end of the event that completed the call.
#include <gtest/gtest.h>

#include <random>

#include "parsers/test_support.h"

namespace llmtap {
namespace {

using namespace testing;

// The chunk (0-based) that holds byte OFFSET when a message is cut at CUTS.
std::size_t chunk_of(std::size_t offset, const std::vector<std::size_t>& cuts) {
  std::size_t k = 0;
  for (auto c : cuts) k += c <= offset ? 1 : 0;
  return k;
}

// Arrival of the SSE event containing MARKER: the chunk with its terminating blank line.
UnixNanos event_time(const std::string& response, const std::string& marker, const std::vector<std::size_t>& cuts) {
  auto pos = response.find(marker);
  EXPECT_NE(pos, std::string::npos) << marker;
  auto end = response.find("\n\n", pos);
  EXPECT_NE(end, std::string::npos) << marker;
  return 2000 + static_cast<UnixNanos>(chunk_of(end + 1, cuts));
}

std::vector<std::vector<std::size_t>> cut_sets(std::size_t size) {
  std::vector<std::vector<std::size_t>> out{{}};
  std::vector<std::size_t> bytewise;
  for (std::size_t i = 1; i < size; ++i) bytewise.push_back(i);
  out.push_back(bytewise);
  std::mt19937 rng(7);
  for (int round = 0; round < 40; ++round) {
    std::vector<std::size_t> cuts;
    for (std::size_t p = 0;;) {
      p += 1 + rng() % 211;
      if (p >= size) break;
      cuts.push_back(p);
    }
    out.push_back(cuts);
  }
  return out;
}

struct Expect {
  std::string call_id;
  std::string marker;  // text of the event that completes it
};

void check_ready(const ConnectionInfo& conn, const std::string& target, const std::string& host,
                 const std::string& req_fixture, const std::string& resp_body, const std::vector<Expect>& want) {
  const std::string req = http_request("POST", target, host, fixture(req_fixture));
  const std::string resp = http_response(200, "text/event-stream", resp_body);
  for (const auto& cuts : cut_sets(resp.size())) {
    SCOPED_TRACE("cuts: " + std::to_string(cuts.size()));
    auto calls = run_exchange(conn, req, resp, {}, cuts);
    ASSERT_EQ(calls.size(), 1u);
    const ModelCall& c = calls[0];
    EXPECT_EQ(c.status, CallStatus::kComplete);
    std::vector<const ToolCall*> got;
    for (const auto& m : c.output)
      for (const auto& tc : m.tool_calls) got.push_back(&tc);
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(got[i]->id, want[i].call_id);
      EXPECT_EQ(got[i]->ready_at, event_time(resp, want[i].marker, cuts)) << want[i].call_id;
      EXPECT_LE(got[i]->ready_at, c.timings.content_end);
    }
    if (::testing::Test::HasFailure()) return;
  }
}

TEST(ToolReady, AnthropicContentBlockStopOfTheToolUseBlock) {
  check_ready({"api.anthropic.com", 443, true, "proxy", 0}, "/v1/messages", "api.anthropic.com",
              "anthropic_stream.req.json", fixture("anthropic_stream.resp"),
              {{"toolu_s2", R"({"type":"content_block_stop","index":2})"}});
}

TEST(ToolReady, ResponsesOutputItemDoneOfTheFunctionCall) {
  check_ready({"api.openai.com", 443, true, "proxy", 0}, "/v1/responses", "api.openai.com",
              "responses_stream.req.json", fixture("responses_stream.resp"),
              {{"call_p9", R"("type":"response.output_item.done","sequence_number":17)"}});
}

TEST(ToolReady, ChatNextToolCallIndexOrFinishReason) {
  // The fixture interleaves two calls (0, 1, 0, 1): call 0 is complete when call 1 streams again
  // after its last delta; call 1 when the finish reason arrives.
  check_ready({"api.openai.com", 443, true, "proxy", 0}, "/v1/chat/completions", "api.openai.com",
              "chat_stream_tools.req.json", fixture("chat_stream_tools.resp"),
              {{"call_p", R"("index":1,"function":{"arguments":"{\"city\": \"T)"},
               {"call_t", R"("finish_reason":"tool_calls")"}});
}

TEST(ToolReady, GeminiTheChunkCarryingTheFunctionCall) {
  const std::string body =
      "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Checking.\"}],\"role\":\"model\"},\"index\":0}]}\n\n"
      "data: {\"candidates\":[{\"content\":{\"parts\":[{\"functionCall\":{\"name\":\"get_weather\",\"args\":"
      "{\"city\":\"Paris\"}}}],\"role\":\"model\"},\"index\":0}]}\n\n"
      "data: {\"candidates\":[{\"content\":{\"parts\":[{\"functionCall\":{\"name\":\"get_time\",\"args\":{}}}],"
      "\"role\":\"model\"},\"finishReason\":\"STOP\",\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":6,"
      "\"candidatesTokenCount\":5}}\n\n";
  check_ready({"generativelanguage.googleapis.com", 443, true, "proxy", 0},
              "/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse", "generativelanguage.googleapis.com",
              "gemini_stream.req.json", body,
              {{"get_weather#0", "get_weather"}, {"get_time#1", "get_time"}});
}

TEST(ToolReady, NonStreamedCallsHaveNoReadyTime) {
  const std::string req = http_request("POST", "/v1/messages", "api.anthropic.com", fixture("anthropic_nonstream.req.json"));
  auto calls = run_exchange({"api.anthropic.com", 443, true, "proxy", 0}, req,
                            http_response(200, "application/json", fixture("anthropic_nonstream.resp")), {}, {});
  ASSERT_EQ(calls.size(), 1u);
  ASSERT_FALSE(calls[0].output.empty());
  ASSERT_FALSE(calls[0].output[0].tool_calls.empty());
  for (const auto& tc : calls[0].output[0].tool_calls) EXPECT_EQ(tc.ready_at, 0);
}

// A client that stops reading after the terminal event (Codex after response.completed) closes
// before the chunked body's terminator: the call is complete, and ends at the last byte seen.
TEST(StreamComplete, TerminalEventWinsOverCutFraming) {
  struct Case {
    ConnectionInfo conn;
    std::string target, host, req_fixture, resp_fixture, terminal;
  } cases[] = {
      {{"api.openai.com", 443, true, "proxy", 0}, "/v1/responses", "api.openai.com", "responses_stream.req.json",
       "responses_stream.resp", "response.completed"},
      {{"api.anthropic.com", 443, true, "proxy", 0}, "/v1/messages", "api.anthropic.com", "anthropic_stream.req.json",
       "anthropic_stream.resp", "message_stop"},
      {{"api.openai.com", 443, true, "proxy", 0}, "/v1/chat/completions", "api.openai.com",
       "chat_stream_tools.req.json", "chat_stream_tools.resp", "\"finish_reason\":\"tool_calls\""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.resp_fixture);
    const std::string req = http_request("POST", c.target, c.host, fixture(c.req_fixture));
    std::string resp = http_response(200, "text/event-stream", fixture(c.resp_fixture), "", 64);
    const std::size_t last_chunk = resp.rfind("\r\n0\r\n") + 2;
    ASSERT_LT(last_chunk, resp.size());
    for (std::size_t keep : {last_chunk, last_chunk + 3}) {  // without the last chunk, or cut in its trailer
      std::string cut = resp.substr(0, keep);
      auto calls = run_exchange(c.conn, req, cut, {}, {cut.size() / 2});
      ASSERT_EQ(calls.size(), 1u);
      EXPECT_EQ(calls[0].status, CallStatus::kComplete);
      EXPECT_EQ(calls[0].timings.response_end, 2001);  // the last bytes seen, not the close at 9000
    }
    // Cut before the terminal event: still incomplete.
    const std::string plain = http_response(200, "text/event-stream", fixture(c.resp_fixture));
    ASSERT_NE(plain.find(c.terminal), std::string::npos);
    std::string early = plain.substr(0, plain.find(c.terminal));
    auto calls = run_exchange(c.conn, req, early, {}, {});
    ASSERT_EQ(calls.size(), 1u);
    EXPECT_EQ(calls[0].status, CallStatus::kIncomplete);
  }
}

}  // namespace
}  // namespace llmtap
