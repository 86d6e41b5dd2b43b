#include "parsers/sse_decoder.h"

#include <gtest/gtest.h>

namespace llmtap {
namespace {

std::vector<SseEvent> decode_in_pieces(const std::string& s, std::size_t piece) {
  SseDecoder d;
  std::vector<SseEvent> out;
  for (std::size_t i = 0; i < s.size(); i += piece) d.feed(std::string_view(s).substr(i, piece), out);
  d.finish(out);
  return out;
}

TEST(SseDecoder, FieldsCommentsAndLineEndings) {
  const std::string stream =
      "\xEF\xBB\xBF: comment\r\n"
      "event: message_start\r\n"
      "id: 7\r\n"
      "data: {\"a\":1}\r\n\r\n"
      "data: line1\n"
      "data:line2\n"
      "data\n"
      "retry: 100\n\n"
      "event: x\rdata: cr only\r\r"
      "data: [DONE]\n\n";
  for (std::size_t piece : {1u, 2u, 3u, 5u, 1000u}) {
    SCOPED_TRACE(piece);
    auto ev = decode_in_pieces(stream, piece);
    ASSERT_EQ(ev.size(), 4u);
    EXPECT_EQ(ev[0].event, "message_start");
    EXPECT_EQ(ev[0].id, "7");
    EXPECT_EQ(ev[0].data, "{\"a\":1}");
    EXPECT_EQ(ev[1].event, "");
    EXPECT_EQ(ev[1].data, "line1\nline2\n");
    EXPECT_EQ(ev[2].event, "x");
    EXPECT_EQ(ev[2].data, "cr only");
    EXPECT_EQ(ev[3].data, "[DONE]");
  }
}

TEST(SseDecoder, Utf8SplitAcrossChunksStaysWhole) {
  const std::string stream = "data: h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80\n\n";
  for (std::size_t piece = 1; piece < stream.size(); ++piece) {
    auto ev = decode_in_pieces(stream, piece);
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0].data, "h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80");
  }
}

TEST(SseDecoder, EventWithoutDataIsNotDispatched) {
  auto ev = decode_in_pieces("event: ping\n\nid: 3\n\n", 1);
  EXPECT_TRUE(ev.empty());
}

TEST(SseDecoder, FinishDeliversCompleteLinesButDropsPartialOnes) {
  SseDecoder d;
  std::vector<SseEvent> out;
  d.feed("data: whole\n", out);
  EXPECT_TRUE(out.empty());
  d.finish(out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].data, "whole");
  EXPECT_FALSE(d.had_partial_line());

  SseDecoder cut;
  std::vector<SseEvent> out2;
  cut.feed("data: {\"half", out2);
  cut.finish(out2);
  EXPECT_TRUE(out2.empty());
  EXPECT_TRUE(cut.had_partial_line());
}

TEST(SseDecoder, CrLfSplitBetweenChunksIsOneLineEnd) {
  SseDecoder d;
  std::vector<SseEvent> out;
  d.feed("data: a\r", out);
  d.feed("\n\r", out);
  d.feed("\n", out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].data, "a");
}

}  // namespace
}  // namespace llmtap

namespace llmtap {
namespace {

// Records each event's text as a sink sees it, checking that SseEvent::kPadding bytes past it are
// readable: inside the chunk being fed, or inside the event's own data storage.
struct PaddingCheckingSink : SseEventSink {
  std::string_view chunk;
  std::vector<std::string> texts;
  int in_place = 0;
  void on_event(SseEvent& ev) override {
    const char* end = ev.text.data() + ev.text.size();
    if (ev.text.data() >= chunk.data() && end <= chunk.data() + chunk.size()) {
      EXPECT_GE(static_cast<std::size_t>(chunk.data() + chunk.size() - end), SseEvent::kPadding);
      ++in_place;
    } else {
      EXPECT_EQ(ev.text.data(), ev.data.data());
      EXPECT_GE(ev.data.capacity(), ev.data.size() + SseEvent::kPadding);
    }
    texts.emplace_back(ev.text);
  }
};

TEST(SseDecoder, EventsReadInPlaceAreTheSameAsCopiedOnes) {
  std::string stream;
  for (int i = 0; i < 200; ++i) {
    const char* eol = i % 3 == 0 ? "\r\n" : i % 3 == 1 ? "\n" : "\r";
    stream += std::string("event: e") + std::to_string(i) + eol;
    stream += "data: {\"n\":" + std::to_string(i) + ",\"pad\":\"" + std::string(static_cast<std::size_t>(i % 90), 'x') + "\"}" + eol;
    if (i % 5 == 0) stream += std::string("data: second line") + eol;
    if (i % 7 == 0) stream += std::string("data:") + eol;
    stream += eol;
  }
  std::vector<std::string> expected;
  for (const SseEvent& e : decode_in_pieces(stream, 1)) expected.push_back(e.data);  // one byte at a time: copied
  ASSERT_EQ(expected.size(), 200u);
  for (std::size_t piece : {7u, 64u, 100u, 333u, 4096u, 1u << 20}) {
    SCOPED_TRACE(piece);
    SseDecoder d;
    PaddingCheckingSink sink;
    for (std::size_t i = 0; i < stream.size(); i += piece) {
      sink.chunk = std::string_view(stream).substr(i, piece);
      d.feed(sink.chunk, sink);
    }
    d.finish(sink);
    EXPECT_EQ(sink.texts, expected);
    if (piece >= 333) {
      EXPECT_GT(sink.in_place, 0);
    }
  }
}

}  // namespace
}  // namespace llmtap
