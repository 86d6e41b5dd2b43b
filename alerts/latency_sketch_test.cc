#include "alerts/latency_sketch.h"

#include <gtest/gtest.h>

#include "alerts/sliding_window.h"

namespace llmtap::alerts {
namespace {

TEST(LatencySketch, QuantilesWithinFivePercent) {
  LatencySketch s;
  EXPECT_EQ(s.quantile(0.95), 0);
  for (int i = 1; i <= 1000; ++i) s.add(i / 100.0);  // 0.01 s .. 10 s
  EXPECT_EQ(s.count(), 1000u);
  EXPECT_NEAR(s.quantile(0.95), 9.5, 9.5 * 0.05);
  EXPECT_NEAR(s.quantile(0.5), 5.0, 5.0 * 0.05);
  EXPECT_NEAR(s.quantile(1.0), 10.0, 10.0 * 0.05);
  LatencySketch t;
  for (int i = 0; i < 1000; ++i) t.add(100);
  s.merge(t);
  EXPECT_EQ(s.count(), 2000u);
  EXPECT_NEAR(s.quantile(0.95), 100, 5);
  EXPECT_NEAR(s.quantile(0.25), 5.0, 5.0 * 0.05);
}

TEST(SlidingWindow, ForgetsWhatLeavesTheWindow) {
  constexpr UnixNanos kMin = 60LL * 1'000'000'000;
  SlidingWindow<int> w(12 * kMin);  // one slot per minute
  const UnixNanos t0 = 1'000'000 * kMin;
  w.at(t0) += 1;
  w.at(t0 + 5 * kMin) += 2;
  auto sum = [&] {
    int n = 0;
    w.for_each([&](int v) { n += v; });
    return n;
  };
  EXPECT_EQ(sum(), 3);
  w.advance(t0 + 11 * kMin);
  EXPECT_EQ(sum(), 3);
  w.advance(t0 + 12 * kMin);  // t0's minute is out
  EXPECT_EQ(sum(), 2);
  w.at(t0) += 5;  // late: lands in the oldest slot still inside
  EXPECT_EQ(sum(), 7);
  w.advance(t0 + 100 * kMin);
  EXPECT_EQ(sum(), 0);
}

}  // namespace
}  // namespace llmtap::alerts
