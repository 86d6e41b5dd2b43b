#include "collector/capture_record.h"

#include <gtest/gtest.h>

#include <string>

namespace llmtap::capture {
namespace {

ConnectionInfo sample_info() {
  ConnectionInfo info;
  info.host = "api.openai.com";
  info.port = 443;
  info.tls = true;
  info.source = "proxy";
  info.client_pid = 4242;
  return info;
}

TEST(CaptureRecord, EveryKindRoundTrips) {
  const ConnectionInfo info = sample_info();
  std::string buf;
  append_record(buf, RecordKind::kOpen, Direction::kClientToServer, 7, 100, {}, &info);
  append_record(buf, RecordKind::kData, Direction::kClientToServer, 7, 101, "POST / HTTP/1.1\r\n", nullptr);
  append_record(buf, RecordKind::kData, Direction::kServerToClient, 7, 102, std::string(70000, 'x'), nullptr);
  append_record(buf, RecordKind::kGap, Direction::kServerToClient, 7, 103, {}, nullptr);
  append_record(buf, RecordKind::kClose, Direction::kClientToServer, 7, 104, {}, nullptr);
  EXPECT_EQ(buf.size(), 5 * kRecordHeaderBytes + encoded_info_size(info) + 17 + 70000);

  std::string_view in = buf;
  RecordView r;
  std::string error;
  ASSERT_EQ(next_record(in, r, &error), DecodeStatus::kRecord);
  EXPECT_EQ(r.kind, RecordKind::kOpen);
  EXPECT_EQ(r.conn_id, 7u);
  EXPECT_EQ(r.ts, 100);
  EXPECT_EQ(r.info.host, info.host);
  EXPECT_EQ(r.info.port, info.port);
  EXPECT_TRUE(r.info.tls);
  EXPECT_EQ(r.info.source, info.source);
  EXPECT_EQ(r.info.client_pid, info.client_pid);
  ASSERT_EQ(next_record(in, r, &error), DecodeStatus::kRecord);
  EXPECT_EQ(r.kind, RecordKind::kData);
  EXPECT_EQ(r.dir, Direction::kClientToServer);
  EXPECT_EQ(r.bytes, "POST / HTTP/1.1\r\n");
  ASSERT_EQ(next_record(in, r, &error), DecodeStatus::kRecord);
  EXPECT_EQ(r.dir, Direction::kServerToClient);
  EXPECT_EQ(r.bytes.size(), 70000u);
  ASSERT_EQ(next_record(in, r, &error), DecodeStatus::kRecord);
  EXPECT_EQ(r.kind, RecordKind::kGap);
  EXPECT_EQ(r.dir, Direction::kServerToClient);
  ASSERT_EQ(next_record(in, r, &error), DecodeStatus::kRecord);
  EXPECT_EQ(r.kind, RecordKind::kClose);
  EXPECT_EQ(r.ts, 104);
  EXPECT_EQ(next_record(in, r, &error), DecodeStatus::kEnd);
}

TEST(CaptureRecord, EveryCutShortRecordIsRefused) {
  const ConnectionInfo info = sample_info();
  std::string buf;
  append_record(buf, RecordKind::kOpen, Direction::kClientToServer, 1, 1, {}, &info);
  append_record(buf, RecordKind::kData, Direction::kClientToServer, 1, 2, "abc", nullptr);
  const std::size_t first = kRecordHeaderBytes + encoded_info_size(info);
  for (std::size_t cut = 1; cut < buf.size(); ++cut) {
    std::string_view in(buf.data(), cut);
    RecordView r;
    std::string error;
    DecodeStatus st = next_record(in, r, &error);
    if (cut >= first) {
      ASSERT_EQ(st, DecodeStatus::kRecord) << cut;
      st = next_record(in, r, &error);
    }
    if (cut == first) {
      EXPECT_EQ(st, DecodeStatus::kEnd);
    } else {
      EXPECT_EQ(st, DecodeStatus::kBad) << cut;
      EXPECT_FALSE(error.empty());
    }
  }
}

TEST(CaptureRecord, MalformedFieldsAreRefused) {
  std::string buf;
  append_record(buf, RecordKind::kData, Direction::kClientToServer, 1, 2, "abc", nullptr);
  auto refused = [](std::string b) {
    std::string_view in = b;
    RecordView r;
    std::string error;
    return next_record(in, r, &error) == DecodeStatus::kBad && !error.empty();
  };
  std::string bad_kind = buf;
  bad_kind[0] = 9;
  EXPECT_TRUE(refused(bad_kind));
  std::string bad_dir = buf;
  bad_dir[1] = 2;
  EXPECT_TRUE(refused(bad_dir));
  std::string gap_with_payload;
  append_record(gap_with_payload, RecordKind::kData, Direction::kClientToServer, 1, 2, "x", nullptr);
  gap_with_payload[0] = static_cast<char>(RecordKind::kGap);
  EXPECT_TRUE(refused(gap_with_payload));
  std::string empty_data;
  append_record(empty_data, RecordKind::kGap, Direction::kClientToServer, 1, 2, {}, nullptr);
  empty_data[0] = static_cast<char>(RecordKind::kData);
  EXPECT_TRUE(refused(empty_data));
}

TEST(CaptureSegment, ChunksOpenWithTheirKeyInOrderOnly) {
  Key key{};
  key[0] = 1;
  const SegmentHeader h{0x8000000000000001ull, 42};
  std::string seg;
  append_segment_header(seg, h);
  ASSERT_TRUE(seal_chunk(key, h, 0, "first chunk", seg));
  ASSERT_TRUE(seal_chunk(key, h, 1, "second chunk", seg));
  EXPECT_EQ(seg.find("first chunk"), std::string::npos);

  // Fed a byte at a time: chunks come out whole and in order.
  SegmentReader reader(key);
  std::vector<std::string> got;
  std::string pt, error;
  for (char c : seg) {
    reader.feed(std::string_view(&c, 1));
    while (reader.next(&pt, &error) == SegmentReader::Status::kChunk) got.push_back(pt);
  }
  EXPECT_EQ(got, (std::vector<std::string>{"first chunk", "second chunk"}));
  EXPECT_FALSE(reader.partial());
  EXPECT_EQ(reader.header().run_id, h.run_id);

  Key other = key;
  other[31] = 9;
  SegmentReader wrong(other);
  wrong.feed(seg);
  EXPECT_EQ(wrong.next(&pt, &error), SegmentReader::Status::kBad);
  EXPECT_NE(error.find("does not open"), std::string::npos);

  // Chunk 1 sealed as index 0 (moved): refused.
  std::string moved;
  append_segment_header(moved, h);
  ASSERT_TRUE(seal_chunk(key, h, 1, "second chunk", moved));
  SegmentReader r2(key);
  r2.feed(moved);
  EXPECT_EQ(r2.next(&pt, &error), SegmentReader::Status::kBad);

  // Every flipped byte is caught (header, length, ciphertext or tag).
  for (std::size_t i = 0; i < seg.size(); ++i) {
    std::string flipped = seg;
    flipped[i] = static_cast<char>(flipped[i] ^ 0x20);
    SegmentReader r(key);
    r.feed(flipped);
    std::vector<std::string> chunks;
    while (r.next(&pt, &error) == SegmentReader::Status::kChunk) chunks.push_back(pt);
    EXPECT_LT(chunks.size(), 2u) << i;
  }
}

}  // namespace
}  // namespace llmtap::capture
