#include "common/bounded_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace llmtap {
namespace {

TEST(BoundedQueue, HandsItemsOverInOrderAndRefusesThemOnceClosed) {
  BoundedQueue<std::string> q(4);
  std::string a = "a", b = "b";
  EXPECT_TRUE(q.push(std::move(a)));
  EXPECT_TRUE(q.push(std::move(b)));
  EXPECT_EQ(q.size(), 2u);
  EXPECT_EQ(*q.pop(), "a");
  q.handled();
  q.close();
  std::string c = "c";
  EXPECT_FALSE(q.push(std::move(c)));
  EXPECT_EQ(c, "c");  // refused: not moved from
  EXPECT_EQ(*q.pop(), "b");  // what was queued before close() still comes out
  q.handled();
  EXPECT_FALSE(q.pop().has_value());
  q.wait_handled();  // everything pushed was handled: returns at once
}

// A producer faster than the consumer: it runs ahead by at most the capacity, then waits; every
// item arrives once, in order, and wait_handled() returns only after the consumer handled them all.
TEST(BoundedQueue, AFullQueueHoldsTheProducerBackAndWaitHandledSeesEveryItemHandled) {
  constexpr int kItems = 2000;
  constexpr std::size_t kCapacity = 8;
  BoundedQueue<int> q(kCapacity);
  std::atomic<bool> gate{false};
  std::vector<int> seen;
  std::size_t most_waiting = 0;
  std::thread consumer([&] {
    while (!gate.load()) std::this_thread::yield();
    while (auto v = q.pop()) {
      most_waiting = std::max(most_waiting, q.size());
      seen.push_back(*v);
      q.handled();
    }
  });
  std::thread producer([&] {
    for (int i = 0; i < kItems; ++i) {
      int v = i;
      ASSERT_TRUE(q.push(std::move(v)));
    }
  });
  while (q.full_waits() == 0) std::this_thread::yield();  // the producer waits for room...
  EXPECT_EQ(q.size(), kCapacity);                         // ...with the queue at its capacity
  gate.store(true);
  producer.join();
  q.wait_handled();
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(kItems));  // all handled before wait_handled() returned
  q.close();
  consumer.join();
  ASSERT_EQ(seen.size(), static_cast<std::size_t>(kItems));
  for (int i = 0; i < kItems; ++i) ASSERT_EQ(seen[static_cast<std::size_t>(i)], i);
  EXPECT_LE(most_waiting, kCapacity);
}

// A consumer woken only once WAKE_AT items wait still gets fewer: after its delay, or at once when
// a producer waits for them to be handled.
TEST(BoundedQueue, FewerItemsThanWakeAtStillArrive) {
  BoundedQueue<int> q(16, 8, std::chrono::milliseconds(5));
  std::atomic<int> handled{0};
  std::thread consumer([&] {
    while (auto v = q.pop()) {
      handled.fetch_add(1);
      q.handled();
    }
  });
  int one = 1;
  ASSERT_TRUE(q.push(std::move(one)));
  while (handled.load() < 1) std::this_thread::yield();  // taken after the delay, not left waiting
  for (int i = 0; i < 3; ++i) {
    int v = i;
    ASSERT_TRUE(q.push(std::move(v)));
  }
  q.wait_handled();
  EXPECT_EQ(handled.load(), 4);
  q.close();
  consumer.join();
}

TEST(BoundedQueue, CloseWakesAProducerWaitingForRoom) {
  BoundedQueue<int> q(1);
  int first = 1;
  ASSERT_TRUE(q.push(std::move(first)));
  std::thread producer([&] {
    int second = 2;
    EXPECT_FALSE(q.push(std::move(second)));  // waits for room until the close
  });
  while (q.full_waits() == 0) std::this_thread::yield();
  q.close();
  producer.join();
  EXPECT_EQ(*q.pop(), 1);
  EXPECT_FALSE(q.pop().has_value());
}

}  // namespace
}  // namespace llmtap
