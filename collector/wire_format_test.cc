#include "preload/wire_format.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace llmtap::wire {
namespace {

std::string encode(RecordType type, std::uint8_t dir, std::uint64_t conn, std::string_view payload) {
  RecordHeader h;
  h.type = static_cast<std::uint8_t>(type);
  h.direction = dir;
  h.payload_len = static_cast<std::uint32_t>(payload.size());
  h.conn_id = conn;
  h.ts_ns = 1234;
  std::string out(reinterpret_cast<const char*>(&h), sizeof h);
  out.append(payload);
  return out;
}

std::string open_payload(std::string_view host, std::uint16_t port) {
  OpenPayload o;
  o.pid = 42;
  o.port = port;
  o.host_len = static_cast<std::uint16_t>(host.size());
  std::string out(reinterpret_cast<const char*>(&o), sizeof o);
  out.append(host);
  return out;
}

TEST(WireFormatTest, DecodesEachRecordType) {
  Record r;
  const std::string data = encode(RecordType::kData, 1, 7, "hello");
  ASSERT_TRUE(decode_record(data.data(), data.size(), &r));
  EXPECT_EQ(r.header.type, static_cast<std::uint8_t>(RecordType::kData));
  EXPECT_EQ(r.header.direction, 1);
  EXPECT_EQ(r.header.conn_id, 7u);
  EXPECT_EQ(r.header.ts_ns, 1234);
  EXPECT_EQ(std::string_view(r.payload, r.payload_len), "hello");

  const std::string open = encode(RecordType::kOpen, 0, 7, open_payload("api.openai.com", 443));
  ASSERT_TRUE(decode_record(open.data(), open.size(), &r));
  OpenPayload o;
  std::memcpy(&o, r.payload, sizeof o);
  EXPECT_EQ(o.port, 443);
  EXPECT_EQ(o.pid, 42u);
  EXPECT_EQ(std::string_view(r.payload + sizeof o, o.host_len), "api.openai.com");

  HelloPayload hello;
  const std::string hm = encode(RecordType::kHello, 0, 0, std::string_view(reinterpret_cast<const char*>(&hello), sizeof hello));
  EXPECT_TRUE(decode_record(hm.data(), hm.size(), &r));
  for (RecordType t : {RecordType::kGap, RecordType::kClose}) {
    const std::string m = encode(t, 0, 3, "");
    EXPECT_TRUE(decode_record(m.data(), m.size(), &r));
  }
}

TEST(WireFormatTest, RejectsMalformedMessages) {
  Record r;
  std::string good = encode(RecordType::kData, 0, 1, "abc");
  EXPECT_FALSE(decode_record(good.data(), good.size() - 1, &r));  // truncated
  std::string longer = good + "x";
  EXPECT_FALSE(decode_record(longer.data(), longer.size(), &r));  // trailing bytes
  EXPECT_FALSE(decode_record(good.data(), 10, &r));                // shorter than a header
  std::string bad_magic = good;
  bad_magic[0] ^= 1;
  EXPECT_FALSE(decode_record(bad_magic.data(), bad_magic.size(), &r));
  std::string bad_type = encode(static_cast<RecordType>(99), 0, 1, "");
  EXPECT_FALSE(decode_record(bad_type.data(), bad_type.size(), &r));
  std::string bad_dir = encode(RecordType::kData, 2, 1, "x");
  EXPECT_FALSE(decode_record(bad_dir.data(), bad_dir.size(), &r));
  std::string short_hello = encode(RecordType::kHello, 0, 0, "abc");
  EXPECT_FALSE(decode_record(short_hello.data(), short_hello.size(), &r));
  std::string open = open_payload("host", 1);
  open.pop_back();  // host_len says 4, 3 present
  std::string bad_open = encode(RecordType::kOpen, 0, 1, open);
  EXPECT_FALSE(decode_record(bad_open.data(), bad_open.size(), &r));
  std::string too_big = encode(RecordType::kData, 0, 1, std::string(kMaxPayload + 1, 'a'));
  EXPECT_FALSE(decode_record(too_big.data(), too_big.size(), &r));
}

TEST(WireFormatTest, RandomBytesNeverDecodeOutOfBounds) {
  std::mt19937 rng(7);
  Record r;
  for (int i = 0; i < 20000; ++i) {
    std::string m(rng() % 80, '\0');
    for (char& c : m) c = static_cast<char>(rng());
    if (i % 2 == 0 && m.size() >= 4) std::memcpy(m.data(), &kMagic, 4);  // get past the magic check
    if (decode_record(m.data(), m.size(), &r)) {
      EXPECT_LE(r.payload + r.payload_len, m.data() + m.size());
    }
  }
}

}  // namespace
}  // namespace llmtap::wire
