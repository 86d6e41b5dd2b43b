#include "collector/h2_stitcher.h"

#include <gtest/gtest.h>

#include <vector>

#include "collector/h2_test_fixture.h"

namespace llmtap {
namespace {

struct CollectingSink : ModelCallSink {
  std::vector<ModelCall> calls;
  void on_model_call(ModelCall call) override { calls.push_back(std::move(call)); }
};

ConnectionInfo openai_conn() {
  ConnectionInfo info;
  info.host = "api.openai.com";
  info.port = 443;
  info.tls = true;
  info.source = "preload";
  return info;
}

const ModelCall* find_call(const std::vector<ModelCall>& calls, bool stream) {
  for (const ModelCall& c : calls) {
    if (c.stream == stream) return &c;
  }
  return nullptr;
}

void expect_both_calls(const std::vector<ModelCall>& calls) {
  ASSERT_EQ(calls.size(), 2u);
  const ModelCall* json = find_call(calls, false);
  const ModelCall* sse = find_call(calls, true);
  ASSERT_NE(json, nullptr);
  ASSERT_NE(sse, nullptr);
  for (const ModelCall* c : {json, sse}) {
    EXPECT_EQ(c->provider, "openai");
    EXPECT_EQ(c->method, "POST");
    EXPECT_EQ(c->path, "/v1/chat/completions");
    EXPECT_EQ(c->http_status, 200);
    EXPECT_EQ(c->request_model, "gpt-4o-mini");
    EXPECT_EQ(c->response_model, "gpt-4o-mini-2024-07-18");
    EXPECT_EQ(c->status, CallStatus::kComplete);
    EXPECT_FALSE(c->capture_gap);
    EXPECT_TRUE(c->usage.present);
    for (const Header& h : c->request_headers) {
      EXPECT_EQ(h.value.find("sk-test-secret"), std::string::npos) << h.name;
    }
  }
  EXPECT_EQ(json->usage.input_total(), 9);
  EXPECT_EQ(json->usage.output_total(), 3);
  EXPECT_EQ(json->response_id, "chatcmpl-1");
  EXPECT_EQ(sse->usage.input_total(), 11);
  EXPECT_EQ(sse->usage.output_total(), 2);
  EXPECT_EQ(sse->response_id, "chatcmpl-2");
  ASSERT_EQ(sse->output.size(), 1u);
  EXPECT_EQ(sse->output[0].text, "Hello");
}

TEST(H2StitcherTest, DecodesConcurrentStreamsAtAnyChunking) {
  const std::vector<testing::H2Chunk> fixture = testing::H2Conversation().record();
  ASSERT_GT(fixture.size(), 4u);
  for (unsigned seed = 0; seed < 20; ++seed) {
    SCOPED_TRACE(seed);
    CollectingSink sink;
    H2Stitcher stitcher(openai_conn(), 5, ParserOptions{}, sink);
    UnixNanos ts = 1000;
    for (const auto& c : seed == 0 ? fixture : testing::rechunk(fixture, seed)) stitcher.data(c.dir, c.bytes, ++ts);
    stitcher.close(++ts);
    expect_both_calls(sink.calls);
    for (const ModelCall& c : sink.calls) {
      EXPECT_EQ(c.connection_id, 5u);
      EXPECT_GT(c.timings.response_end, c.timings.request_start);
    }
  }
}

TEST(H2StitcherTest, GapEndsStreamsInFlightAndStopsDecoding) {
  const std::vector<testing::H2Chunk> fixture = testing::H2Conversation().record();
  CollectingSink sink;
  H2Stitcher stitcher(openai_conn(), 1, ParserOptions{}, sink);
  // Up to the first response bytes: both requests are in flight.
  std::size_t i = 0;
  for (; i < fixture.size() && fixture[i].dir == Direction::kClientToServer; ++i) {
    stitcher.data(fixture[i].dir, fixture[i].bytes, 1);
  }
  stitcher.gap(Direction::kServerToClient, 2);
  ASSERT_EQ(sink.calls.size(), 2u);
  for (const ModelCall& c : sink.calls) {
    EXPECT_TRUE(c.capture_gap);
    EXPECT_NE(c.status, CallStatus::kComplete);
  }
  for (; i < fixture.size(); ++i) stitcher.data(fixture[i].dir, fixture[i].bytes, 3);
  stitcher.close(4);
  EXPECT_EQ(sink.calls.size(), 2u);
}

TEST(H2StitcherTest, CloseMidResponseEndsExchangeIncomplete) {
  const std::vector<testing::H2Chunk> fixture = testing::H2Conversation().record();
  CollectingSink sink;
  H2Stitcher stitcher(openai_conn(), 1, ParserOptions{}, sink);
  std::size_t total = 0;
  for (const auto& c : fixture) total += c.bytes.size();
  std::size_t fed = 0;
  for (const auto& c : fixture) {
    if (fed + c.bytes.size() > total * 3 / 4) break;
    stitcher.data(c.dir, c.bytes, 1);
    fed += c.bytes.size();
  }
  stitcher.close(2);
  ASSERT_GE(sink.calls.size(), 1u);
  bool saw_incomplete = false;
  for (const ModelCall& c : sink.calls) saw_incomplete |= c.status == CallStatus::kIncomplete;
  EXPECT_TRUE(saw_incomplete);
}

TEST(H2StitcherTest, GarbageNeverCrashes) {
  std::mt19937 rng(3);
  for (int round = 0; round < 200; ++round) {
    CollectingSink sink;
    H2Stitcher stitcher(openai_conn(), 1, ParserOptions{}, sink);
    std::string preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    stitcher.data(Direction::kClientToServer, preface, 1);
    for (int i = 0; i < 20; ++i) {
      std::string junk(rng() % 64, '\0');
      for (char& c : junk) c = static_cast<char>(rng());
      stitcher.data(rng() % 2 ? Direction::kClientToServer : Direction::kServerToClient, junk, 2);
    }
    stitcher.close(3);
  }
}

}  // namespace
}  // namespace llmtap
