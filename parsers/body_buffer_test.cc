#include "parsers/body_buffer.h"

#include <gtest/gtest.h>

namespace llmtap {
namespace {

// Each test starts from an empty spare: it takes whatever an earlier test on this thread left.
void drain_spare() {
  std::string s = body_buffer::take(0, 0);
  std::string().swap(s);
}

TEST(BodyBuffer, ALargeBodysBufferIsReusedForTheNextLargeOrUnknownLengthBody) {
  drain_spare();
  std::string a = body_buffer::take(0, 0);
  a.assign(1u << 20, 'x');
  const char* mem = a.data();
  const std::size_t cap = a.capacity();
  body_buffer::give_back(a);
  EXPECT_TRUE(a.empty());
  EXPECT_LT(a.capacity(), 64u);  // given away, not kept twice

  std::string b = body_buffer::take(0, 0);  // unknown length
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.data(), mem);
  EXPECT_EQ(b.capacity(), cap);
  body_buffer::give_back(b);

  std::string c = body_buffer::take(200u << 10, (200u << 10) + 64);  // announced large
  EXPECT_EQ(c.data(), mem);
  body_buffer::give_back(c);
}

TEST(BodyBuffer, SmallAnnouncedBodiesLeaveTheSpareAlone) {
  drain_spare();
  std::string a = body_buffer::take(0, 1u << 20);
  const char* mem = a.data();
  body_buffer::give_back(a);
  std::string small = body_buffer::take(1000, 1064);
  EXPECT_NE(small.data(), mem);
  EXPECT_GE(small.capacity(), 1064u);
  EXPECT_LT(small.capacity(), 1u << 20);
  std::string large = body_buffer::take(0, 0);
  EXPECT_EQ(large.data(), mem);
  body_buffer::give_back(small);
  body_buffer::give_back(large);
}

TEST(BodyBuffer, OneSpareOfBoundedSizeIsKept) {
  drain_spare();
  std::string big = body_buffer::take(0, body_buffer::kSpareCapacity + 1);
  body_buffer::give_back(big);  // past the bound: freed
  std::string next = body_buffer::take(0, 0);
  EXPECT_LT(next.capacity(), body_buffer::kSpareCapacity);

  std::string one = body_buffer::take(0, 1u << 20), two = body_buffer::take(0, 2u << 20);
  const char* larger = two.data();
  body_buffer::give_back(two);
  body_buffer::give_back(one);  // smaller than the spare kept: freed
  std::string again = body_buffer::take(0, 0);
  EXPECT_EQ(again.data(), larger);
  body_buffer::give_back(again);
  body_buffer::give_back(next);
}

TEST(BodyBuffer, ATakenSpareHoldsNoOldBytesAndReservesWhatIsAsked) {
  drain_spare();
  std::string a = body_buffer::take(0, 0);
  a.assign(100000, 'q');
  body_buffer::give_back(a);
  std::string b = body_buffer::take(300000, 300064);
  EXPECT_TRUE(b.empty());
  EXPECT_GE(b.capacity(), 300064u);
  body_buffer::give_back(b);
}

}  // namespace
}  // namespace llmtap
