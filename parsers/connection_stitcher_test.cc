#include "parsers/connection_stitcher.h"

#include <gtest/gtest.h>

#include "parsers/test_support.h"

namespace llmtap {
namespace {

using testing::CollectingSink;
using testing::fixture;
using testing::http_request;
using testing::http_response;

ConnectionInfo openai_conn() { return ConnectionInfo{"api.openai.com", 443, true, "proxy", 0}; }

TEST(ConnectionStitcher, PipelinedKeepAliveExchangesPairInOrder) {
  CollectingSink sink;
  ConnectionStitcher st(openai_conn(), 3, ParserOptions{}, sink);
  std::string req1 = http_request("POST", "/v1/chat/completions", "api.openai.com", fixture("azure_chat.req.json"));
  std::string req2 = http_request("POST", "/v1/embeddings", "api.openai.com", fixture("embeddings.req.json"));
  st.data(Direction::kClientToServer, req1 + req2, 10);
  st.data(Direction::kServerToClient,
          http_response(200, "application/json", fixture("azure_chat.resp")) +
              http_response(200, "application/json", fixture("embeddings.resp"), "", 50),
          20);
  ASSERT_EQ(sink.calls.size(), 2u);
  EXPECT_EQ(sink.calls[0].api, "chat_completions");
  EXPECT_EQ(sink.calls[0].response_model, "gpt-4o-2024-11-20");
  EXPECT_EQ(sink.calls[0].connection_id, 3u);
  EXPECT_EQ(sink.calls[1].api, "embeddings");
  EXPECT_EQ(sink.calls[1].usage.input_uncached, 8);
  st.close(30);
  EXPECT_EQ(sink.calls.size(), 2u);
}

TEST(ConnectionStitcher, CloseMidStreamKeepsWhatWasSeen) {
  std::string body = fixture("chat_stream_tools.resp");
  std::string resp = http_response(200, "text/event-stream", body, "", 64);
  std::string req = http_request("POST", "/v1/chat/completions", "api.openai.com", fixture("chat_stream_tools.req.json"));
  auto cut_at = resp.find("Paris");
  auto calls = testing::run_exchange(openai_conn(), req, resp.substr(0, cut_at), {}, {});
  ASSERT_EQ(calls.size(), 1u);
  const ModelCall& c = calls[0];
  EXPECT_EQ(c.status, CallStatus::kIncomplete);
  EXPECT_FALSE(c.usage.present);
  ASSERT_EQ(c.output.size(), 1u);
  ASSERT_EQ(c.output[0].tool_calls.size(), 2u);
  EXPECT_EQ(c.output[0].tool_calls[0].id, "call_p");
  EXPECT_EQ(c.output[0].tool_calls[0].arguments, "{\"city\":");
  EXPECT_EQ(c.output[0].tool_calls[1].id, "call_t");
  EXPECT_TRUE(c.finish_reasons.empty());
  EXPECT_EQ(c.timings.response_end, 9000);
}

TEST(ConnectionStitcher, CloseDelimitedResponseIsComplete) {
  std::string req = http_request("POST", "/v1/chat/completions", "api.openai.com", fixture("azure_chat.req.json"));
  std::string resp = "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n" + fixture("azure_chat.resp");
  auto calls = testing::run_exchange(openai_conn(), req, resp, {}, {7, 100});
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].status, CallStatus::kComplete);
  EXPECT_EQ(calls[0].output.at(0).text, "Hello");
}

TEST(ConnectionStitcher, RequestWithoutResponseIsIncomplete) {
  CollectingSink sink;
  ConnectionStitcher st(openai_conn(), 1, ParserOptions{}, sink);
  st.data(Direction::kClientToServer,
          http_request("POST", "/v1/chat/completions", "api.openai.com", fixture("chat_nonstream.req.json")), 5);
  st.close(6);
  ASSERT_EQ(sink.calls.size(), 1u);
  EXPECT_EQ(sink.calls[0].status, CallStatus::kIncomplete);
  EXPECT_EQ(sink.calls[0].request_model, "gpt-4o-mini");
  EXPECT_EQ(sink.calls[0].http_status, 0);
}

TEST(ConnectionStitcher, ExpectContinueInterimResponseIsSkipped) {
  CollectingSink sink;
  ConnectionStitcher st(openai_conn(), 1, ParserOptions{}, sink);
  std::string body = fixture("azure_chat.req.json");
  st.data(Direction::kClientToServer,
          "POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\nExpect: 100-continue\r\nContent-Length: " +
              std::to_string(body.size()) + "\r\n\r\n", 1);
  st.data(Direction::kServerToClient, "HTTP/1.1 100 Continue\r\n\r\n", 2);
  st.data(Direction::kClientToServer, body, 3);
  st.data(Direction::kServerToClient, http_response(200, "application/json", fixture("azure_chat.resp")), 4);
  ASSERT_EQ(sink.calls.size(), 1u);
  EXPECT_EQ(sink.calls[0].status, CallStatus::kComplete);
  EXPECT_EQ(sink.calls[0].timings.request_end, 3);
  EXPECT_EQ(sink.calls[0].timings.response_first_byte, 4);
}

TEST(ConnectionStitcher, FinalAnswerBeforeAnExpectedBodyKeepsFraming) {
  CollectingSink sink;
  ConnectionStitcher st(openai_conn(), 1, ParserOptions{}, sink);
  std::string body = fixture("azure_chat.req.json");
  st.data(Direction::kClientToServer,
          "POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\nExpect: 100-continue\r\nContent-Length: " +
              std::to_string(body.size()) + "\r\n\r\n", 1);
  st.data(Direction::kServerToClient, http_response(401, "application/json", fixture("error_429.resp")), 2);
  ASSERT_EQ(sink.calls.size(), 1u);
  EXPECT_EQ(sink.calls[0].status, CallStatus::kError);
  EXPECT_EQ(sink.calls[0].http_status, 401);
  // The client still sends the announced body (its framing is committed), then the next request.
  st.data(Direction::kClientToServer, body, 3);
  st.data(Direction::kClientToServer, http_request("POST", "/v1/chat/completions", "api.openai.com", body), 4);
  st.data(Direction::kServerToClient, http_response(200, "application/json", fixture("azure_chat.resp")), 5);
  ASSERT_EQ(sink.calls.size(), 2u);
  EXPECT_EQ(sink.calls[1].status, CallStatus::kComplete);
  EXPECT_EQ(sink.calls[1].timings.request_start, 4);
  EXPECT_EQ(sink.calls[1].output.at(0).text, "Hello");
}

TEST(ConnectionStitcher, GapMarksTheExchangeAndResyncs) {
  CollectingSink sink;
  ConnectionStitcher st(openai_conn(), 1, ParserOptions{}, sink);
  std::string req = http_request("POST", "/v1/chat/completions", "api.openai.com", fixture("azure_chat.req.json"));
  std::string resp = http_response(200, "application/json", fixture("azure_chat.resp"));
  st.data(Direction::kClientToServer, req, 1);
  st.data(Direction::kServerToClient, resp.substr(0, 60), 2);
  st.gap(Direction::kServerToClient, 3);
  ASSERT_EQ(sink.calls.size(), 1u);
  EXPECT_TRUE(sink.calls[0].capture_gap);
  EXPECT_EQ(sink.calls[0].status, CallStatus::kIncomplete);
  // The next exchange on the connection is parsed normally after the gap.
  st.data(Direction::kServerToClient, resp.substr(100), 4);
  st.data(Direction::kClientToServer, req, 5);
  st.data(Direction::kServerToClient, resp, 6);
  ASSERT_EQ(sink.calls.size(), 2u);
  EXPECT_FALSE(sink.calls[1].capture_gap);
  EXPECT_EQ(sink.calls[1].status, CallStatus::kComplete);
}

TEST(ConnectionStitcher, BodyCapMarksTruncated) {
  ParserOptions opts;
  opts.body_cap = 600;  // the request fits, the response does not
  std::string req = http_request("POST", "/v1/chat/completions", "api.openai.com", fixture("chat_stream_tools.req.json"));
  std::string resp = http_response(200, "text/event-stream", fixture("chat_stream_tools.resp"));
  auto calls = testing::run_exchange(openai_conn(), req, resp, {}, {}, opts);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_TRUE(calls[0].truncated);
  EXPECT_EQ(calls[0].status, CallStatus::kIncomplete);
  EXPECT_EQ(calls[0].request_model, "gpt-4.1");
}

TEST(ConnectionStitcher, NonHttpBytesDoNotCrash) {
  CollectingSink sink;
  ConnectionStitcher st(openai_conn(), 1, ParserOptions{}, sink);
  st.data(Direction::kClientToServer, std::string("\x16\x03\x01\x00\xff", 5), 1);
  st.data(Direction::kServerToClient, "garbage", 2);
  st.close(3);
  EXPECT_TRUE(sink.calls.empty());
}

// A client acts on a stream once its last event arrives; the chunked framing's final bytes may come
// later. Tool spans start at content_end, so it must be the last event's arrival, not the last byte's.
TEST(ConnectionStitcher, StreamContentEndIsTheLastEventNotTheFramingEnd) {
  CollectingSink sink;
  ConnectionStitcher st(openai_conn(), 5, ParserOptions{}, sink);
  st.data(Direction::kClientToServer,
          http_request("POST", "/v1/chat/completions", "api.openai.com", fixture("chat_stream_tools.req.json")), 10);
  std::string resp = http_response(200, "text/event-stream", fixture("chat_stream_tools.resp"), "", 64);
  const std::string terminator = "0\r\nX-Trailer: t\r\n\r\n";  // last chunk + trailer
  ASSERT_EQ(resp.substr(resp.size() - terminator.size()), terminator);
  st.data(Direction::kServerToClient, resp.substr(0, resp.size() - terminator.size()), 20);
  EXPECT_TRUE(sink.calls.empty());
  st.data(Direction::kServerToClient, terminator, 90);
  ASSERT_EQ(sink.calls.size(), 1u);
  EXPECT_EQ(sink.calls[0].timings.content_end, 20);  // fails if content_end tracked the last byte
  EXPECT_EQ(sink.calls[0].timings.response_end, 90);

  st.data(Direction::kClientToServer,
          http_request("POST", "/v1/chat/completions", "api.openai.com", fixture("azure_chat.req.json")), 100);
  st.data(Direction::kServerToClient, http_response(200, "application/json", fixture("azure_chat.resp")), 110);
  ASSERT_EQ(sink.calls.size(), 2u);
  EXPECT_EQ(sink.calls[1].timings.content_end, 0);  // not a stream
}

}  // namespace
}  // namespace llmtap
