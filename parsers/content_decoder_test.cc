#include "parsers/content_decoder.h"

#include <gtest/gtest.h>

#include <random>

#include "parsers/test_support.h"

namespace llmtap {
namespace {

std::string sample() {
  std::string s;
  std::mt19937 rng(1);
  for (int i = 0; i < 20000; ++i) s += "data: {\"delta\":\"tok" + std::to_string(rng() % 500) + "\"}\n\n";
  return s;
}

std::string decode(const std::string& header, const std::string& body, std::size_t piece, bool* ok = nullptr) {
  ContentDecoder d(header);
  std::string out;
  bool good = true;
  for (std::size_t i = 0; i < body.size(); i += piece) good = d.feed(std::string_view(body).substr(i, piece), out) && good;
  good = d.finish() && good;
  if (ok) *ok = good;
  return out;
}

TEST(ContentDecoder, RoundTripsEveryEncodingInAnyChunking) {
  const std::string plain = sample();
  for (std::string enc : {"gzip", "deflate", "deflate-raw", "br", "zstd"}) {
    std::string header = enc == "deflate-raw" ? "deflate" : enc;
    std::string packed = testing::compress(enc, plain);
    for (std::size_t piece : {1u, 7u, 4096u, 1u << 24}) {
      SCOPED_TRACE(enc + " piece " + std::to_string(piece));
      bool ok = false;
      EXPECT_EQ(decode(header, packed, piece, &ok), plain);
      EXPECT_TRUE(ok);
    }
  }
}

TEST(ContentDecoder, IdentityAndCaseAndChains) {
  EXPECT_EQ(decode("identity", "abc", 1), "abc");
  EXPECT_EQ(decode("", "abc", 2), "abc");
  std::string once = testing::compress("gzip", "hello");
  EXPECT_EQ(decode(" GZIP ", once, 3), "hello");
  std::string twice = testing::compress("br", testing::compress("gzip", "hello chain"));
  EXPECT_EQ(decode("gzip, br", twice, 1), "hello chain");
}

TEST(ContentDecoder, ConcatenatedGzipMembers) {
  std::string two = testing::compress("gzip", "one ") + testing::compress("gzip", "two");
  EXPECT_EQ(decode("gzip", two, 5), "one two");
}

TEST(ContentDecoder, WrongEncodingFailsWithoutCrashing) {
  for (std::string enc : {"gzip", "deflate", "br", "zstd"}) {
    SCOPED_TRACE(enc);
    ContentDecoder d(enc);
    std::string out;
    bool ok = d.feed("{\"this is\": \"plain json, not compressed at all\"}", out);
    ok = d.finish() && ok;
    EXPECT_FALSE(ok);
  }
  ContentDecoder unknown("compress");
  std::string out;
  EXPECT_FALSE(unknown.feed("x", out));
  EXPECT_TRUE(unknown.failed());
}

TEST(ContentDecoder, TruncatedStreamIsNotComplete) {
  std::string packed = testing::compress("zstd", sample());
  ContentDecoder d("zstd");
  std::string out;
  EXPECT_TRUE(d.feed(std::string_view(packed).substr(0, packed.size() / 2), out));
  EXPECT_FALSE(d.finish());
}

TEST(ContentDecoder, OutputLimitBoundsDecompressionBombs) {
  std::string zeros(50u << 20, '\0');
  for (std::string enc : {"gzip", "br", "zstd"}) {
    std::string packed = testing::compress(enc, zeros);
    ContentDecoder d(enc);
    std::string out;
    EXPECT_TRUE(d.feed(packed, out, 1u << 20));
    EXPECT_LE(out.size(), 1u << 20);
    EXPECT_TRUE(d.limit_reached());
  }
}

}  // namespace
}  // namespace llmtap
