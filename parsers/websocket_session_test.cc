// The WebSocket capture path through ConnectionStitcher: upgrade, frames in both directions, the
// Responses API session, and everything that must not become a record.
#include "parsers/websocket_session.h"

#include <gtest/gtest.h>

#include <random>

#include "parsers/connection_stitcher.h"
#include "parsers/test_support.h"
#include "parsers/websocket_test_support.h"

namespace llmtap {
namespace {

using testing::CollectingSink;
using testing::WsDeflater;
using testing::ws_message;

struct Segment {
  Direction dir;
  std::string bytes;
};

std::string upgrade_request(const std::string& path, const std::string& host = "api.openai.com") {
  return "GET " + path + " HTTP/1.1\r\nHost: " + host +
         "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nAuthorization: Bearer sk-secret-do-not-record\r\n"
         "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n\r\n";
}

std::string switching_protocols(const std::string& extensions = "") {
  std::string r = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n";
  if (!extensions.empty()) r += "Sec-WebSocket-Extensions: " + extensions + "\r\n";
  return r + "\r\n";
}

// A conversation's frames, compressed or not, as each side writes them.
struct Wire {
  explicit Wire(bool compress = false, bool context_takeover = true)
      : deflate(compress), client_z(context_takeover), server_z(context_takeover) {}
  bool deflate;
  WsDeflater client_z, server_z;
  std::vector<Segment> segments;

  void client(const std::string& json) {
    segments.push_back({Direction::kClientToServer,
                        deflate ? ws_message(client_z.compress(json), 0x1, true, 2, true) : ws_message(json, 0x1, true, 2)});
  }
  void server(const std::string& json) {
    segments.push_back(
        {Direction::kServerToClient, deflate ? ws_message(server_z.compress(json), 0x1, false, 1, true) : ws_message(json, 0x1, false)});
  }
  void raw(Direction d, std::string bytes) { segments.push_back({d, std::move(bytes)}); }
  // The upgrade request and its 101.
  void open(const std::string& path = "/v1/responses", const std::string& host = "api.openai.com",
            const std::string& extensions = "") {
    raw(Direction::kClientToServer, upgrade_request(path, host));
    raw(Direction::kServerToClient, switching_protocols(extensions));
  }
};

// Feeds the segments in order, each cut into random chunks (or whole); chunk k gets timestamp 1000+k.
std::vector<ModelCall> run(const std::vector<Segment>& segments, std::mt19937* rng,
                           std::shared_ptr<CaptureCounters> counters = nullptr, const std::string& host = "api.openai.com") {
  CollectingSink sink;
  ParserOptions opts;
  opts.counters = std::move(counters);
  ConnectionInfo conn{host, 443, true, "proxy", 0};
  ConnectionStitcher st(conn, 7, opts, sink);
  UnixNanos ts = 1000;
  for (const auto& s : segments) {
    std::size_t pos = 0;
    while (pos < s.bytes.size()) {
      std::size_t n = rng ? 1 + (*rng)() % 40 : s.bytes.size();
      st.data(s.dir, std::string_view(s.bytes).substr(pos, n), ts++);
      pos += n;
    }
  }
  st.close(ts + 1);
  return std::move(sink.calls);
}

void for_each_feeding(const std::vector<Segment>& segments, const std::function<void(const std::vector<ModelCall>&)>& check) {
  {
    SCOPED_TRACE("whole segments");
    check(run(segments, nullptr));
  }
  // The 101 head and the first frames in one read: the bytes after the head are frames too.
  {
    std::vector<Segment> merged;
    for (const auto& s : segments) {
      if (!merged.empty() && merged.back().dir == s.dir) {
        merged.back().bytes += s.bytes;
      } else {
        merged.push_back(s);
      }
    }
    SCOPED_TRACE("merged per direction turn");
    check(run(merged, nullptr));
  }
  std::mt19937 rng(42);
  for (int round = 0; round < 10; ++round) {
    SCOPED_TRACE("random chunks, round " + std::to_string(round));
    check(run(segments, &rng));
  }
}

const char* kPrewarm =
    R"({"type":"response.create","model":"gpt-5-codex","instructions":"You are Codex, a coding agent.",)"
    R"("tools":[{"type":"function","name":"shell","parameters":{"type":"object"}}],"generate":false,)"
    R"("input":[{"type":"message","role":"user","content":[{"type":"input_text","text":"list files"}]}]})";

void prewarm_exchange(Wire& w) {
  w.client(kPrewarm);
  w.server(R"({"type":"response.created","response":{"id":"resp_pre","model":"gpt-5-codex","status":"in_progress"}})");
  w.server(R"({"type":"response.completed","response":{"id":"resp_pre","model":"gpt-5-codex","status":"completed","output":[]}})");
}

void tool_call_exchange(Wire& w) {
  w.client(R"({"type":"response.create","model":"gpt-5-codex","instructions":"You are Codex, a coding agent.",)"
           R"("tools":[{"type":"function","name":"shell","parameters":{"type":"object"}}],)"
           R"("previous_response_id":"resp_pre","input":[]})");
  w.server(R"({"type":"response.created","response":{"id":"resp_1","model":"gpt-5-codex","status":"in_progress"}})");
  w.server(R"({"type":"response.output_item.added","output_index":0,"item":{"type":"function_call","call_id":"call_ls","name":"shell","arguments":""}})");
  w.server(R"({"type":"response.function_call_arguments.delta","output_index":0,"delta":"{\"cmd\":"})");
  w.server(R"({"type":"response.function_call_arguments.delta","output_index":0,"delta":"\"ls\"}"})");
  w.server(R"({"type":"response.output_item.done","output_index":0,"item":{"type":"function_call","call_id":"call_ls","name":"shell","arguments":"{\"cmd\":\"ls\"}"}})");
  w.server(R"({"type":"response.completed","response":{"id":"resp_1","model":"gpt-5-codex","status":"completed",)"
           R"("output":[{"type":"function_call","call_id":"call_ls","name":"shell","arguments":"{\"cmd\":\"ls\"}"}],)"
           R"("usage":{"input_tokens":1200,"input_tokens_details":{"cached_tokens":1000},"output_tokens":50,)"
           R"("output_tokens_details":{"reasoning_tokens":30},"total_tokens":1250}}})");
}

void check_prewarm_and_call(const std::vector<ModelCall>& calls) {
  ASSERT_EQ(calls.size(), 2u);
  const ModelCall& pre = calls[0];
  EXPECT_TRUE(pre.state_only);
  EXPECT_EQ(pre.response_id, "resp_pre");
  EXPECT_EQ(pre.system_instructions, "You are Codex, a coding agent.");
  ASSERT_EQ(pre.input.size(), 1u);
  EXPECT_EQ(pre.input[0].text, "list files");

  const ModelCall& c = calls[1];
  EXPECT_FALSE(c.state_only);
  EXPECT_EQ(c.provider, "openai");
  EXPECT_EQ(c.api, "responses");
  EXPECT_EQ(c.path, "/v1/responses");
  EXPECT_EQ(c.host, "api.openai.com");
  EXPECT_EQ(c.status, CallStatus::kComplete);
  EXPECT_TRUE(c.stream);
  EXPECT_EQ(c.http_status, 0);  // no HTTP status per call on a socket
  EXPECT_EQ(c.connection_id, 7u);
  EXPECT_EQ(c.request_model, "gpt-5-codex");
  EXPECT_EQ(c.response_model, "gpt-5-codex");
  EXPECT_EQ(c.response_id, "resp_1");
  EXPECT_EQ(c.previous_response_id, "resp_pre");
  EXPECT_EQ(c.traceparent, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  ASSERT_EQ(c.output.size(), 1u);
  ASSERT_EQ(c.output[0].tool_calls.size(), 1u);
  EXPECT_EQ(c.output[0].tool_calls[0].id, "call_ls");
  EXPECT_EQ(c.output[0].tool_calls[0].arguments, "{\"cmd\":\"ls\"}");
  EXPECT_TRUE(c.usage.present);
  EXPECT_EQ(c.usage.input_uncached, 200);
  EXPECT_EQ(c.usage.cache_read, 1000);
  EXPECT_EQ(c.usage.output, 20);
  EXPECT_EQ(c.usage.reasoning, 30);
  for (const auto& h : c.request_headers) {
    EXPECT_NE(h.name, "Authorization");
    EXPECT_EQ(h.value.find("sk-secret"), std::string::npos);
  }
  // Timings from frame arrival: request, then the first event, first content, last event.
  const Timings& t = c.timings;
  EXPECT_GT(t.request_start, pre.timings.response_end);
  EXPECT_GE(t.request_end, t.request_start);
  EXPECT_GT(t.response_first_byte, t.request_end);
  EXPECT_GE(t.first_content_chunk, t.response_first_byte);  // equal when the events came in one read
  EXPECT_GE(t.response_end, t.first_content_chunk);
  EXPECT_EQ(t.content_end, t.response_end);
}

TEST(WebSocketResponses, PrewarmThenCallOverOneSocket) {
  for (bool deflate : {false, true}) {
    SCOPED_TRACE(deflate ? "permessage-deflate" : "uncompressed");
    Wire w(deflate);
    w.raw(Direction::kClientToServer, upgrade_request("/v1/responses"));
    w.raw(Direction::kServerToClient, switching_protocols(deflate ? "permessage-deflate" : ""));
    prewarm_exchange(w);
    tool_call_exchange(w);
    for_each_feeding(w.segments, check_prewarm_and_call);
    // One frame per read: the first content event came after the first event.
    auto calls = run(w.segments, nullptr);
    ASSERT_EQ(calls.size(), 2u);
    EXPECT_GT(calls[1].timings.first_content_chunk, calls[1].timings.response_first_byte);
  }
}

TEST(WebSocketResponses, DeflateWithoutContextTakeover) {
  Wire w(true, false);
  w.raw(Direction::kClientToServer, upgrade_request("/v1/responses"));
  w.raw(Direction::kServerToClient,
        switching_protocols("permessage-deflate; server_no_context_takeover; client_no_context_takeover"));
  prewarm_exchange(w);
  tool_call_exchange(w);
  for_each_feeding(w.segments, check_prewarm_and_call);
}

TEST(WebSocketResponses, ChatGptCodexPath) {
  Wire w;
  w.raw(Direction::kClientToServer, upgrade_request("/backend-api/codex/responses", "chatgpt.com"));
  w.raw(Direction::kServerToClient, switching_protocols());
  prewarm_exchange(w);
  tool_call_exchange(w);
  auto calls = run(w.segments, nullptr, nullptr, "chatgpt.com");
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[1].provider, "openai");
  EXPECT_EQ(calls[1].api, "responses");
  EXPECT_EQ(calls[1].host, "chatgpt.com");
}

TEST(WebSocketResponses, CreateBeforeThePreviousEndedWaitsItsTurn) {
  Wire w;
  w.open();
  w.client(R"({"type":"response.create","model":"m","input":"one"})");
  w.server(R"({"type":"response.created","response":{"id":"r1"}})");
  w.client(R"({"type":"response.create","model":"m","input":"two"})");
  w.server(R"({"type":"response.output_text.delta","output_index":0,"content_index":0,"delta":"first"})");
  w.server(R"({"type":"response.completed","response":{"id":"r1","status":"completed"}})");
  w.server(R"({"type":"response.created","response":{"id":"r2"}})");
  w.server(R"({"type":"response.output_text.delta","output_index":0,"content_index":0,"delta":"second"})");
  w.server(R"({"type":"response.completed","response":{"id":"r2","status":"completed"}})");
  for_each_feeding(w.segments, [](const std::vector<ModelCall>& calls) {
    ASSERT_EQ(calls.size(), 2u);
    EXPECT_EQ(calls[0].response_id, "r1");
    ASSERT_EQ(calls[0].input.size(), 1u);
    EXPECT_EQ(calls[0].input[0].text, "one");
    ASSERT_EQ(calls[0].output.size(), 1u);
    EXPECT_EQ(calls[0].output[0].text, "first");
    EXPECT_EQ(calls[1].response_id, "r2");
    EXPECT_EQ(calls[1].input[0].text, "two");
    EXPECT_EQ(calls[1].output[0].text, "second");
    EXPECT_EQ(calls[0].status, CallStatus::kComplete);
    EXPECT_EQ(calls[1].status, CallStatus::kComplete);
    EXPECT_LT(calls[0].timings.request_start, calls[1].timings.request_start);
  });
}

TEST(WebSocketResponses, AbandonedCallEndsIncompleteWhenTheNextResponseStarts) {
  Wire w;
  w.open();
  w.client(R"({"type":"response.create","model":"m","input":"one"})");
  w.server(R"({"type":"response.created","response":{"id":"r1"}})");
  w.client(R"({"type":"response.create","model":"m","input":"two"})");
  w.server(R"({"type":"response.created","response":{"id":"r2"}})");
  w.server(R"({"type":"response.completed","response":{"id":"r2","status":"completed"}})");
  auto calls = run(w.segments, nullptr);
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].response_id, "r1");
  EXPECT_EQ(calls[0].status, CallStatus::kIncomplete);
  EXPECT_EQ(calls[1].response_id, "r2");
  EXPECT_EQ(calls[1].status, CallStatus::kComplete);
}

TEST(WebSocketResponses, ErrorsAndCutsEndCalls) {
  Wire w;
  w.open();
  w.client(R"({"type":"response.create","model":"m","input":"one"})");
  w.server(R"({"type":"error","status":429,"error":{"type":"rate_limit_error","code":"rate_limit_exceeded","message":"slow down"}})");
  w.client(R"({"type":"response.create","model":"m","input":"two"})");
  w.server(R"({"type":"response.created","response":{"id":"r2"}})");
  auto calls = run(w.segments, nullptr);  // closed while the second call streams
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].status, CallStatus::kError);
  EXPECT_EQ(calls[0].error_type, "rate_limit_exceeded");
  EXPECT_EQ(calls[0].error_message, "slow down");
  EXPECT_EQ(calls[1].status, CallStatus::kIncomplete);
  EXPECT_EQ(calls[1].response_id, "r2");
}

TEST(WebSocketResponses, NothingButModelCallsBecomesARecord) {
  auto counters = std::make_shared<CaptureCounters>();
  Wire w;
  w.open();
  w.client(R"({"type":"session.update","session":{}})");  // not a create
  w.raw(Direction::kClientToServer, ws_message("\x01\x02", 0x2, true));  // binary
  w.client("not json at all");
  w.server(R"({"type":"response.output_text.delta","delta":"unsolicited"})");  // no call open
  auto calls = run(w.segments, nullptr, counters);
  EXPECT_TRUE(calls.empty());
  EXPECT_EQ(counters->websocket_sessions.load(), 1u);
  EXPECT_EQ(counters->websocket_parse_errors.load(), 1u);
}

TEST(WebSocketResponses, EventThatIsNotJsonLeavesTheCallIncomplete) {
  auto counters = std::make_shared<CaptureCounters>();
  Wire w;
  w.open();
  w.client(R"({"type":"response.create","model":"m","input":"one"})");
  w.server(R"({"type":"response.created","response":{"id":"r1"}})");
  w.server(R"({"type":"response.output_text.delta","delta":"x"}})");  // one brace too many
  w.server(R"({"type":"response.completed","response":{"id":"r1","status":"completed"}})");
  auto calls = run(w.segments, nullptr, counters);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].status, CallStatus::kIncomplete);
  EXPECT_EQ(counters->websocket_parse_errors.load(), 1u);
}

TEST(WebSocketResponses, OtherSocketsAreNotDecoded) {
  auto counters = std::make_shared<CaptureCounters>();
  for (const std::string path : {"/v1/realtime?model=gpt-realtime", "/socket"}) {
    Wire w;
    w.raw(Direction::kClientToServer, upgrade_request(path));
    w.raw(Direction::kServerToClient, switching_protocols());
    w.client(R"({"type":"response.create","response":{}})");
    w.server(R"({"type":"response.done"})");
    w.raw(Direction::kServerToClient, "\xff\xff garbage that is no frame");
    EXPECT_TRUE(run(w.segments, nullptr, counters).empty()) << path;
  }
  EXPECT_EQ(counters->websocket_sessions.load(), 0u);
  EXPECT_EQ(counters->websocket_protocol_errors.load(), 0u);
}

TEST(WebSocketResponses, RefusedUpgradeIsNoRecord) {
  const std::string refused = "HTTP/1.1 426 Upgrade Required\r\nContent-Type: application/json\r\nContent-Length: 27\r\n\r\n"
                              "{\"error\":{\"message\":\"no\"}}";
  std::vector<Segment> segs = {{Direction::kClientToServer, upgrade_request("/v1/responses")},
                               {Direction::kServerToClient, refused},
                               {Direction::kClientToServer, upgrade_request("/v1/responses")}};
  EXPECT_TRUE(run(segs, nullptr).empty());  // the second attempt is cut by the close: still nothing
}

TEST(WebSocketResponses, ProtocolErrorIsCountedAndFailsOpen) {
  auto counters = std::make_shared<CaptureCounters>();
  Wire w;
  w.open();
  w.client(R"({"type":"response.create","model":"m","input":"one"})");
  w.server(R"({"type":"response.created","response":{"id":"r1"}})");
  w.raw(Direction::kServerToClient, ws_message("masked server frame", 0x1, true));
  w.server(R"({"type":"response.completed","response":{"id":"r1","status":"completed"}})");
  auto calls = run(w.segments, nullptr, counters);
  ASSERT_EQ(calls.size(), 1u);  // what was seen is kept, marked incomplete at the close
  EXPECT_EQ(calls[0].status, CallStatus::kIncomplete);
  EXPECT_EQ(counters->websocket_protocol_errors.load(), 1u);
}

TEST(WebSocketResponses, GapEndsTheCapture) {
  auto counters = std::make_shared<CaptureCounters>();
  CollectingSink sink;
  ParserOptions opts;
  opts.counters = counters;
  ConnectionStitcher st(ConnectionInfo{"api.openai.com", 443, true, "proxy", 0}, 1, opts, sink);
  st.data(Direction::kClientToServer, upgrade_request("/v1/responses"), 1);
  st.data(Direction::kServerToClient, switching_protocols(), 2);
  st.data(Direction::kClientToServer, ws_message(R"({"type":"response.create","model":"m","input":"x"})", 0x1, true), 3);
  st.gap(Direction::kServerToClient, 4);
  st.data(Direction::kServerToClient, ws_message(R"({"type":"response.completed","response":{"id":"r"}})", 0x1, false), 5);
  st.close(6);
  ASSERT_EQ(sink.calls.size(), 1u);
  EXPECT_TRUE(sink.calls[0].capture_gap);
  EXPECT_EQ(sink.calls[0].status, CallStatus::kIncomplete);
  EXPECT_EQ(counters->websocket_protocol_errors.load(), 1u);
}

TEST(ChatGptHost, OnlyTheCodexPathIsRecorded) {
  ConnectionInfo conn{"chatgpt.com", 443, true, "proxy", 0};
  const std::string sse =
      "event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"id\":\"r\",\"model\":\"gpt-5\","
      "\"status\":\"completed\",\"output\":[],\"usage\":{\"input_tokens\":3,\"output_tokens\":1}}}\n\n";
  auto calls = testing::run_exchange(
      conn, testing::http_request("POST", "/backend-api/codex/responses", "chatgpt.com", R"({"model":"gpt-5","input":"hi","stream":true})"),
      testing::http_response(200, "text/event-stream", sse), {}, {});
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].provider, "openai");
  EXPECT_EQ(calls[0].api, "responses");
  EXPECT_EQ(calls[0].usage.input_uncached, 3);
  for (const std::string path : {"/backend-api/wham/usage", "/backend-api/conversation/x/responses", "/"}) {
    EXPECT_TRUE(testing::run_exchange(conn, testing::http_request("GET", path, "chatgpt.com", ""),
                                      testing::http_response(200, "application/json", "{\"ok\":true}"), {}, {})
                    .empty())
        << path;
  }
}

}  // namespace
}  // namespace llmtap
