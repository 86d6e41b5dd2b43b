// AsyncTap with its default decoders: HTTP/1.1 connections go to ConnectionStitcher, HTTP/2 ones
// (client preface) to H2Stitcher, whatever the chunking of the first bytes.
#include <gtest/gtest.h>

#include <mutex>
#include <vector>

#include "collector/async_tap.h"
#include "collector/h2_test_fixture.h"

namespace llmtap {
namespace {

struct LockedSink : ModelCallSink {
  std::mutex mu;
  std::vector<ModelCall> calls;
  void on_model_call(ModelCall call) override {
    std::lock_guard<std::mutex> lock(mu);
    calls.push_back(std::move(call));
  }
};

ConnectionInfo conn(const std::string& host) {
  ConnectionInfo info;
  info.host = host;
  info.port = 443;
  info.tls = true;
  info.source = "preload";
  info.client_pid = 77;
  return info;
}

std::string http1_request(const std::string& body) {
  return "POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\nContent-Type: application/json\r\n"
         "Authorization: Bearer sk-test-secret\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

std::string http1_response(const std::string& body) {
  return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body;
}

TEST(HttpDecoderFactoryTest, Http1ThroughAsyncTap) {
  LockedSink sink;
  AsyncTap tap(sink);
  tap.open(1, conn("api.openai.com"), 1);
  const std::string req = http1_request(testing::kJsonRequest);
  // The first bytes arrive one at a time: the sniffer must not decide on "P" alone.
  for (std::size_t i = 0; i < req.size(); ++i) tap.data(1, Direction::kClientToServer, req.substr(i, 1), 2);
  tap.data(1, Direction::kServerToClient, http1_response(testing::kJsonResponse), 3);
  tap.close(1, 4);
  tap.flush();
  ASSERT_EQ(sink.calls.size(), 1u);
  const ModelCall& c = sink.calls[0];
  EXPECT_EQ(c.request_model, "gpt-4o-mini");
  EXPECT_EQ(c.response_model, "gpt-4o-mini-2024-07-18");
  EXPECT_EQ(c.usage.input_total(), 9);
  EXPECT_EQ(c.usage.output_total(), 3);
  EXPECT_EQ(c.status, CallStatus::kComplete);
  EXPECT_EQ(c.client_pid, 77u);
}

TEST(HttpDecoderFactoryTest, Http2ThroughAsyncTapAtAnyChunking) {
  const auto fixture = testing::H2Conversation().record();
  for (unsigned seed = 1; seed <= 5; ++seed) {
    LockedSink sink;
    AsyncTap tap(sink);
    tap.open(9, conn("api.openai.com"), 1);
    for (const auto& c : testing::rechunk(fixture, seed)) tap.data(9, c.dir, c.bytes, 2);
    tap.close(9, 3);
    tap.flush();
    ASSERT_EQ(sink.calls.size(), 2u) << seed;
    int streams = 0;
    for (const ModelCall& c : sink.calls) {
      EXPECT_EQ(c.request_model, "gpt-4o-mini");
      EXPECT_TRUE(c.usage.present);
      EXPECT_EQ(c.status, CallStatus::kComplete);
      streams += c.stream ? 1 : 0;
    }
    EXPECT_EQ(streams, 1);
  }
}

TEST(HttpDecoderFactoryTest, Http1GapDropsOnlyTheExchangeSpanningIt) {
  LockedSink sink;
  AsyncTap tap(sink);
  tap.open(1, conn("api.openai.com"), 1);
  tap.data(1, Direction::kClientToServer, http1_request(testing::kJsonRequest), 2);
  const std::string resp = http1_response(testing::kJsonResponse);
  tap.data(1, Direction::kServerToClient, resp.substr(0, 40), 3);
  tap.gap(1, Direction::kServerToClient, 4);
  tap.data(1, Direction::kClientToServer, http1_request(testing::kJsonRequest), 5);
  tap.data(1, Direction::kServerToClient, resp, 6);
  tap.close(1, 7);
  tap.flush();
  int complete = 0;
  for (const ModelCall& c : sink.calls) {
    if (c.status == CallStatus::kComplete && !c.capture_gap) ++complete;
  }
  // Whether the stitcher can resync after a response-side gap is its policy; it must never
  // report the cut exchange as complete, and never more than the one intact exchange.
  EXPECT_LE(complete, 1);
  for (const ModelCall& c : sink.calls) {
    if (c.capture_gap) {
      EXPECT_NE(c.status, CallStatus::kComplete);
    }
  }
}

}  // namespace
}  // namespace llmtap
