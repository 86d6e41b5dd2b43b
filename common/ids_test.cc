#include "common/ids.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

namespace llmtap {
namespace {

bool lower_hex(const std::string& s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

TEST(Ids, W3CShapeAndNeverAllZeros) {
  for (int i = 0; i < 10000; ++i) {
    const std::string t = new_trace_id(), s = new_span_id();
    ASSERT_EQ(t.size(), 32u);
    ASSERT_EQ(s.size(), 16u);
    ASSERT_TRUE(lower_hex(t)) << t;
    ASSERT_TRUE(lower_hex(s)) << s;
    ASSERT_NE(t, std::string(32, '0'));
    ASSERT_NE(s, std::string(16, '0'));
  }
}

TEST(Ids, UniqueWithinAndAcrossThreads) {
  constexpr int kThreads = 4, kPerThread = 50000;
  std::vector<std::vector<std::string>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) got[t].push_back(new_span_id());
    });
  for (auto& th : threads) th.join();
  std::set<std::string> all;
  for (const auto& v : got) all.insert(v.begin(), v.end());
  // Independently seeded per-thread generators: 200k 64-bit ids collide with odds ~1e-9.
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kThreads * kPerThread));
}

TEST(Ids, EveryNibbleVaries) {
  // A generator stuck on some bits (e.g. bytes taken from a narrower type) shows up as a fixed digit.
  std::vector<std::set<char>> seen(32);
  for (int i = 0; i < 2000; ++i) {
    const std::string t = new_trace_id();
    for (std::size_t k = 0; k < t.size(); ++k) seen[k].insert(t[k]);
  }
  for (std::size_t k = 0; k < seen.size(); ++k) EXPECT_EQ(seen[k].size(), 16u) << "digit " << k;
}

}  // namespace
}  // namespace llmtap
