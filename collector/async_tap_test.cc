#include "collector/async_tap.h"
#include "collector/hold_gate_test_util.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace llmtap {
namespace {

// Records what the worker delivers, per connection, and can hold the worker inside data().
struct Recorder : HoldGate {
  std::vector<std::string> events;  // "open:1 host", "data:1:c:bytes", "gap:1:c", "close:1"

  void add(std::string e) {
    std::lock_guard<std::mutex> lock(mu);
    events.push_back(std::move(e));
  }
  void block_in_data() {
    std::unique_lock<std::mutex> lock(mu);
    wait_while_held(lock);
  }
};

char dir_char(Direction d) { return d == Direction::kClientToServer ? 'c' : 's'; }

class RecordingDecoder : public ConnectionDecoder {
 public:
  RecordingDecoder(Recorder& r, std::uint64_t id) : r_(r), id_(id) {}
  void data(Direction dir, std::string_view bytes, UnixNanos) noexcept override {
    bool hold;
    {
      std::lock_guard<std::mutex> lock(r_.mu);
      hold = r_.hold;
    }
    r_.add("data:" + std::to_string(id_) + ":" + dir_char(dir) + ":" + std::string(bytes));
    if (hold) r_.block_in_data();
  }
  void gap(Direction dir, UnixNanos) noexcept override {
    r_.add("gap:" + std::to_string(id_) + ":" + dir_char(dir));
  }
  void close(UnixNanos) noexcept override { r_.add("close:" + std::to_string(id_)); }

 private:
  Recorder& r_;
  std::uint64_t id_;
};

class RecordingFactory : public ConnectionDecoderFactory {
 public:
  explicit RecordingFactory(Recorder& r) : r_(r) {}
  std::unique_ptr<ConnectionDecoder> create(std::uint64_t id, const ConnectionInfo& info) override {
    r_.add("open:" + std::to_string(id) + " " + info.host);
    return std::make_unique<RecordingDecoder>(r_, id);
  }

 private:
  Recorder& r_;
};

ConnectionInfo info_for(const std::string& host) {
  ConnectionInfo info;
  info.host = host;
  info.port = 443;
  info.source = "test";
  return info;
}

TEST(AsyncTapTest, DeliversEventsInOrder) {
  Recorder rec;
  AsyncTap tap(std::make_unique<RecordingFactory>(rec), AsyncTapOptions{});
  tap.open(1, info_for("a"), 1);
  tap.data(1, Direction::kClientToServer, "req", 2);
  tap.open(2, info_for("b"), 2);
  tap.data(2, Direction::kClientToServer, "x", 3);
  tap.data(1, Direction::kServerToClient, "resp", 4);
  tap.gap(2, Direction::kServerToClient, 5);
  tap.close(1, 6);
  tap.data(1, Direction::kClientToServer, "after close: ignored", 7);
  tap.data(9, Direction::kClientToServer, "never opened: ignored", 7);
  tap.flush();
  EXPECT_EQ(rec.events, (std::vector<std::string>{"open:1 a", "data:1:c:req", "open:2 b", "data:2:c:x",
                                                  "data:1:s:resp", "gap:2:s", "close:1"}));
  tap.stop();  // connection 2 is still open: stop ends it
  EXPECT_EQ(rec.events.back(), "close:2");
  const AsyncTapStats st = tap.stats();
  EXPECT_EQ(st.connections_opened, 2u);
  EXPECT_EQ(st.records_dropped, 0u);
  EXPECT_EQ(st.queued_bytes, 0u);
}

TEST(AsyncTapTest, FullQueueDropsBytesAndMarksGapBeforeNextRecord) {
  Recorder rec;
  AsyncTapOptions opts;
  opts.max_queued_bytes = 14;  // bytes count until the worker is done with them
  AsyncTap tap(std::make_unique<RecordingFactory>(rec), opts);
  tap.open(1, info_for("a"), 1);
  {
    std::lock_guard<std::mutex> lock(rec.mu);
    rec.hold = true;
  }
  tap.data(1, Direction::kClientToServer, "aaaa", 2);
  rec.wait_holding();  // the worker holds "aaaa": the queue is ours to fill
  tap.data(1, Direction::kClientToServer, "bbbbbbbb", 3);  // 12 of 14
  tap.data(1, Direction::kClientToServer, "cccc", 4);      // 16 > 14: dropped
  tap.data(1, Direction::kServerToClient, "dd", 5);        // 14 of 14: fits
  tap.data(1, Direction::kServerToClient, "e", 6);         // dropped
  AsyncTapStats st = tap.stats();
  EXPECT_EQ(st.records_dropped, 2u);
  EXPECT_EQ(st.bytes_dropped, 5u);
  rec.release();
  tap.flush();
  tap.data(1, Direction::kClientToServer, "ffff", 7);  // preceded by the owed client gap
  tap.close(1, 8);                                     // preceded by the owed server gap
  tap.flush();
  EXPECT_EQ(rec.events, (std::vector<std::string>{"open:1 a", "data:1:c:aaaa", "data:1:c:bbbbbbbb",
                                                  "data:1:s:dd", "gap:1:c", "data:1:c:ffff", "gap:1:s",
                                                  "close:1"}));
  st = tap.stats();
  EXPECT_EQ(st.gaps_marked, 2u);
  EXPECT_EQ(st.bytes_accepted, 4u + 8u + 2u + 4u);
  EXPECT_EQ(st.queued_bytes, 0u);
}

TEST(AsyncTapTest, TheSharedBudgetIsChargedAndAtItsLimitTheQueueDrops) {
  Recorder rec;
  AsyncTapOptions opts;
  // Room for the held record plus one more record of 8 bytes, counted with its queue entry.
  auto budget = std::make_shared<MemoryBudget>(std::size_t{4} << 10);
  opts.budget = budget;
  AsyncTap tap(std::make_unique<RecordingFactory>(rec), opts);
  tap.open(1, info_for("a"), 1);
  tap.flush();
  EXPECT_EQ(budget->held(MemoryBudget::Account::kCaptureQueue), 0u) << "decoded events return their charge";
  {
    std::lock_guard<std::mutex> lock(rec.mu);
    rec.hold = true;
  }
  tap.data(1, Direction::kClientToServer, "aaaa", 2);
  rec.wait_holding();
  const std::size_t one = budget->held(MemoryBudget::Account::kCaptureQueue);
  EXPECT_GE(one, 4u) << "the record in the worker's hands is still charged";
  tap.data(1, Direction::kClientToServer, "bbbbbbbb", 3);
  EXPECT_GT(budget->held(MemoryBudget::Account::kCaptureQueue), one);
  // Another holder (open traces, say) takes the rest of the budget: the next record is dropped.
  const std::size_t rest = budget->limit() - budget->used();
  budget->charge(MemoryBudget::Account::kOpenTraces, rest);
  tap.data(1, Direction::kClientToServer, "cccc", 4);
  AsyncTapStats st = tap.stats();
  EXPECT_EQ(st.records_dropped, 1u);
  EXPECT_EQ(st.records_dropped_over_budget, 1u);
  EXPECT_EQ(st.bytes_dropped, 4u);
  budget->release(MemoryBudget::Account::kOpenTraces, rest);
  rec.release();
  tap.flush();
  tap.data(1, Direction::kClientToServer, "dddd", 5);  // room again, after the owed gap
  tap.flush();
  EXPECT_EQ(rec.events, (std::vector<std::string>{"open:1 a", "data:1:c:aaaa", "data:1:c:bbbbbbbb", "gap:1:c",
                                                  "data:1:c:dddd"}));
  EXPECT_EQ(budget->held(MemoryBudget::Account::kCaptureQueue), 0u);
}

TEST(AsyncTapTest, ConcurrentProducersKeepPerConnectionOrder) {
  Recorder rec;
  AsyncTap tap(std::make_unique<RecordingFactory>(rec), AsyncTapOptions{});
  constexpr int kThreads = 4, kRecords = 500;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::uint64_t id = static_cast<std::uint64_t>(t) + 1;
      tap.open(id, info_for("h"), 0);
      for (int i = 0; i < kRecords; ++i) tap.data(id, Direction::kClientToServer, std::to_string(i), i);
      tap.close(id, 0);
    });
  }
  for (auto& th : threads) th.join();
  tap.flush();
  std::vector<int> next(kThreads + 1, 0);
  int closes = 0;
  for (const std::string& e : rec.events) {
    if (e.rfind("data:", 0) == 0) {
      const std::size_t c1 = e.find(':', 5);
      const int id = std::stoi(e.substr(5, c1 - 5));
      const int value = std::stoi(e.substr(c1 + 3));
      EXPECT_EQ(value, next[id]) << e;
      next[id] = value + 1;
    } else if (e.rfind("close:", 0) == 0) {
      ++closes;
    }
  }
  for (int id = 1; id <= kThreads; ++id) EXPECT_EQ(next[id], kRecords);
  EXPECT_EQ(closes, kThreads);
}

// The worker naps between batches while records keep coming and sleeps once a nap finds none; a
// record must reach the decoder either way without a flush. The deadline only bounds a hang.
TEST(AsyncTapTest, RecordsAreDecodedWithoutAFlushWhetherTheWorkerNapsOrSleeps) {
  Recorder rec;
  AsyncTap tap(std::make_unique<RecordingFactory>(rec), AsyncTapOptions{});
  auto decoded = [&](std::size_t n) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      {
        std::lock_guard<std::mutex> lock(rec.mu);
        if (rec.events.size() >= n) return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return false;
  };
  tap.open(1, info_for("a"), 1);
  ASSERT_TRUE(decoded(1));  // woken from its first sleep
  tap.data(1, Direction::kClientToServer, "while it naps", 2);
  ASSERT_TRUE(decoded(2));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // past any nap: asleep again
  tap.data(1, Direction::kClientToServer, "after it slept", 3);
  ASSERT_TRUE(decoded(3));
  for (int i = 0; i < 1000; ++i) tap.data(1, Direction::kServerToClient, std::string(1000, 'x'), 4 + i);
  ASSERT_TRUE(decoded(1003));
  EXPECT_EQ(rec.events[2], "data:1:c:after it slept");
}

TEST(AsyncTapTest, CallsAfterStopAreIgnored) {
  Recorder rec;
  AsyncTap tap(std::make_unique<RecordingFactory>(rec), AsyncTapOptions{});
  tap.stop();
  tap.open(1, info_for("a"), 1);
  tap.data(1, Direction::kClientToServer, "x", 2);
  tap.flush();
  tap.stop();
  EXPECT_TRUE(rec.events.empty());
}

struct CountingSink : ModelCallSink {
  std::atomic<int> calls{0};
  void on_model_call(ModelCall) override { ++calls; }
};

TEST(AsyncTap, WebSocketDecodeProblemsShowInStats) {
  CountingSink sink;
  AsyncTap tap(sink);
  tap.open(1, ConnectionInfo{"api.openai.com", 443, true, "proxy", 0}, 1);
  tap.data(1, Direction::kClientToServer,
           "GET /v1/responses HTTP/1.1\r\nHost: api.openai.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", 2);
  tap.data(1, Direction::kServerToClient, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", 3);
  tap.data(1, Direction::kServerToClient, std::string("\x81\x85\x01\x02\x03\x04hello", 11), 4);  // masked: not from a server
  tap.close(1, 5);
  tap.flush();
  const AsyncTapStats st = tap.stats();
  EXPECT_EQ(st.websocket_sessions, 1u);
  EXPECT_EQ(st.websocket_protocol_errors, 1u);
  EXPECT_EQ(sink.calls.load(), 0);  // neither the upgrade nor the undecodable socket is a record
}

}  // namespace
}  // namespace llmtap
