// AsyncTap with its capture spool and the real HTTP/1.1 decoders: a decoder that falls behind a
// tiny queue loses nothing, a full spool drops counted bytes, a stop at its deadline leaves the rest
// for the next AsyncTap on the same directory, damaged segments are skipped and counted, and
// nothing on disk is plaintext.
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "collector/async_tap.h"
#include "collector/hold_gate_test_util.h"
#include "common/test_temp_dir.h"

namespace llmtap {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSecret = "sk-live-Zq8SECRETvalue1234";

// Collects calls; with hold set, the worker waits inside its first call until release().
struct GateSink : ModelCallSink, HoldGate {
  std::vector<ModelCall> calls;
  void on_model_call(ModelCall call) override {
    std::unique_lock<std::mutex> lock(mu);
    calls.push_back(std::move(call));
    if (hold) wait_while_held(lock);
  }
  std::vector<std::string> ids() {
    std::lock_guard<std::mutex> lock(mu);
    std::vector<std::string> out;
    for (const auto& c : calls) out.push_back(c.response_id + (c.capture_gap ? " (gap)" : ""));
    return out;
  }
};

struct TempDir : test_support::TempDir {
  TempDir() : test_support::TempDir("llmtap-capture-spool-test") {}
};

ConnectionInfo conn_info() {
  ConnectionInfo info;
  info.host = "api.openai.com";
  info.port = 443;
  info.tls = true;
  info.source = "proxy";
  return info;
}

std::string request(int n) {
  const std::string body = R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"private question )" +
                           std::to_string(n) + R"("}]})";
  return "POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\nContent-Type: application/json\r\n"
         "Authorization: Bearer " + std::string(kSecret) + "\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body;
}

std::string response(int n) {
  const std::string body = R"({"id":"chatcmpl-)" + std::to_string(n) +
                           R"(","object":"chat.completion","model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}})";
  return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body;
}

AsyncTapOptions spooled(const std::string& data_dir, std::size_t queue_bytes = 1) {
  AsyncTapOptions opts;
  opts.max_queued_bytes = queue_bytes;
  opts.spool.dir = data_dir + "/capture-spool";
  opts.spool.key_path = data_dir + "/capture-spool.key";
  opts.spool.chunk_bytes = 2048;     // many chunks
  opts.spool.segment_bytes = 16384;  // and several segments
  opts.spool.max_pending_chunks = 100000;  // the test's traffic never waits for the writer
  return opts;
}

// CONNS keep-alive connections, each sending EXCHANGES requests and answers, interleaved; the
// first exchange goes alone so that a held sink holds the worker with the rest still to come.
void send_traffic(AsyncTap& tap, GateSink& sink, int conns, int exchanges, bool hold_first) {
  for (int c = 1; c <= conns; ++c) tap.open(c, conn_info(), c);
  tap.data(1, Direction::kClientToServer, request(0), 10);
  tap.data(1, Direction::kServerToClient, response(0), 11);
  if (hold_first) sink.wait_holding();
  int n = 1;
  for (int e = 0; e < exchanges; ++e)
    for (int c = 1; c <= conns; ++c, ++n) {
      tap.data(c, Direction::kClientToServer, request(n), 100 + n);
      tap.data(c, Direction::kServerToClient, response(n), 100 + n);
    }
}

std::vector<std::string> expected_ids(int conns, int exchanges) {
  std::vector<std::string> out;
  for (int n = 0; n <= conns * exchanges; ++n) out.push_back("chatcmpl-" + std::to_string(n));
  return out;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> segment_files(const std::string& data_dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(data_dir + "/capture-spool"))
    if (e.path().extension() == ".seg") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(AsyncTapSpool, ASlowDecoderBehindATinyQueueDecodesEveryCallInOrderLikeAnUnlimitedQueue) {
  GateSink unlimited;
  {
    AsyncTap tap(unlimited);
    send_traffic(tap, unlimited, 3, 40, false);
    tap.flush();
  }
  TempDir dir;
  GateSink sink;
  sink.hold = true;
  AsyncTap tap(sink, spooled(dir.path));
  send_traffic(tap, sink, 3, 40, true);
  AsyncTapStats st = tap.stats();
  EXPECT_GT(st.spool_records, 0u);  // held: the records wait in the spool
  EXPECT_GT(st.spool_bytes, 0u);
  sink.release();
  tap.flush();
  EXPECT_EQ(sink.ids(), unlimited.ids());
  EXPECT_EQ(sink.ids(), expected_ids(3, 40));
  st = tap.stats();
  EXPECT_EQ(st.records_dropped, 0u);
  EXPECT_EQ(st.bytes_dropped, 0u);
  EXPECT_EQ(st.gaps_marked, 0u);
  EXPECT_GE(st.spooled_records, 3u * 40u * 2u);
  EXPECT_EQ(st.spool_records, 0u);
  // Drained: back to the memory queue, and every decoded segment is gone.
  EXPECT_TRUE(segment_files(dir.path).empty());
  tap.data(1, Direction::kClientToServer, request(1000), 5000);
  tap.data(1, Direction::kServerToClient, response(1000), 5001);
  tap.flush();
  EXPECT_EQ(sink.ids().back(), "chatcmpl-1000");
}

TEST(AsyncTapSpool, AFullSpoolDropsCountedBytesAndTheDecodersSeeAGap) {
  TempDir dir;
  GateSink sink;
  sink.hold = true;
  AsyncTapOptions opts = spooled(dir.path);
  opts.spool.max_bytes = 6000;  // a few exchanges
  AsyncTap tap(sink, opts);
  send_traffic(tap, sink, 1, 30, true);
  const AsyncTapStats held = tap.stats();
  EXPECT_GT(held.records_dropped_spool_full, 0u);
  EXPECT_EQ(held.records_dropped, held.records_dropped_spool_full);
  EXPECT_GT(held.bytes_dropped, 0u);
  EXPECT_GT(held.spooled_records, 0u);
  sink.release();
  tap.flush();
  // A later exchange decodes again after the gap: the spool drained.
  tap.data(1, Direction::kClientToServer, request(1000), 5000);
  tap.data(1, Direction::kServerToClient, response(1000), 5001);
  tap.close(1, 5002);
  tap.flush();
  const std::vector<std::string> ids = sink.ids();
  ASSERT_GE(ids.size(), 2u);
  EXPECT_LT(ids.size(), expected_ids(1, 30).size());
  EXPECT_EQ(ids.front(), "chatcmpl-0");
  // What the spool held decodes in order; after the dropped rest (a gap) the stream resyncs: the
  // last calls are the exchange the drop cut (if it cut one) and the one after the gap.
  std::size_t in_order = 0;
  while (in_order < ids.size() && ids[in_order] == "chatcmpl-" + std::to_string(in_order)) ++in_order;
  EXPECT_GE(in_order, 2u);
  EXPECT_GE(in_order + 2, ids.size());
  EXPECT_NE(std::find(ids.end() - 2, ids.end(), "chatcmpl-1000"), ids.end());
  EXPECT_GE(tap.stats().gaps_marked, 1u);

}

TEST(AsyncTapSpool, ASpoolThatCannotBeWrittenDropsCountedBytesAndTheDecodersSeeAGap) {
  TempDir dir;
  GateSink sink;
  sink.hold = true;
  AsyncTapOptions opts = spooled(dir.path, 4096);
  AsyncTap tap(sink, opts);
  fs::remove_all(opts.spool.dir);  // the writer's segments can no longer be created
  send_traffic(tap, sink, 1, 30, true);
  sink.release();
  tap.flush();
  const AsyncTapStats st = tap.stats();
  EXPECT_GT(st.records_dropped, 0u);
  EXPECT_GT(st.bytes_dropped, 0u);
  EXPECT_EQ(st.spool_records, 0u);
  // The queue's own share still decodes what fits in it, after the gap.
  tap.data(1, Direction::kClientToServer, request(1000), 5000);
  tap.data(1, Direction::kServerToClient, response(1000), 5001);
  tap.close(1, 5002);
  tap.flush();
  const std::vector<std::string> ids = sink.ids();
  EXPECT_EQ(ids.front(), "chatcmpl-0");
  EXPECT_LT(ids.size(), expected_ids(1, 30).size());
  EXPECT_NE(std::find(ids.end() - std::min<std::size_t>(2, ids.size()), ids.end(), "chatcmpl-1000"), ids.end());
}

// New traffic queues behind a replay: once it is decoded, so is the replay.
void send_after_the_replay(AsyncTap& tap) {
  tap.open(7, conn_info(), 1);
  tap.data(7, Direction::kClientToServer, request(5000), 2);
  tap.data(7, Direction::kServerToClient, response(5000), 3);
  tap.flush();
}

// Leaves part of the traffic undecoded in the spool of DATA_DIR: a stop whose deadline has passed
// while the worker was held in its first call. Returns the calls decoded before the stop.
// Stops TAP at a deadline already passed while SINK holds its worker in a call, then lets it go.
void stop_while_held(AsyncTap& tap, GateSink& sink) {
  std::thread stopper([&] { tap.stop(std::chrono::steady_clock::now()); });
  // stop() sets its deadline and refuses new records in one step: once an open is no longer
  // counted, the worker may go on, and stops at the deadline.
  for (std::uint64_t probe = 100;; ++probe) {
    const std::uint64_t before = tap.stats().connections_opened;
    tap.open(probe, conn_info(), 9100);
    if (tap.stats().connections_opened == before) break;
    std::this_thread::yield();
  }
  sink.release();
  stopper.join();
}

std::vector<std::string> leave_a_backlog(const std::string& data_dir, int exchanges) {
  GateSink sink;
  sink.hold = true;
  AsyncTap tap(sink, spooled(data_dir));
  send_traffic(tap, sink, 2, exchanges, true);
  tap.close(1, 9000);
  tap.close(2, 9001);
  stop_while_held(tap, sink);
  return sink.ids();
}

TEST(AsyncTapSpool, AStopAtItsDeadlineLeavesTheRestAndTheNextTapOnTheDirectoryReplaysIt) {
  TempDir dir;
  const std::vector<std::string> first = leave_a_backlog(dir.path, 25);
  ASSERT_FALSE(segment_files(dir.path).empty());
  struct stat st {};
  ASSERT_EQ(::stat((dir.path + "/capture-spool.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((dir.path + "/capture-spool").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  for (const auto& f : segment_files(dir.path)) {
    ASSERT_EQ(::stat(f.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << f;
  }

  GateSink sink;
  AsyncTap tap(sink, spooled(dir.path, 64u << 20));
  send_after_the_replay(tap);
  std::vector<std::string> all = first;
  const std::vector<std::string> second = sink.ids();
  all.insert(all.end(), second.begin(), second.end() - 1);
  EXPECT_EQ(all, expected_ids(2, 25));  // each call once, in order, across the two taps
  EXPECT_EQ(second.back(), "chatcmpl-5000");
  const AsyncTapStats s = tap.stats();
  EXPECT_GT(s.replayed_records, 0u);
  EXPECT_EQ(s.spool_segments_damaged, 0u);
  EXPECT_TRUE(segment_files(dir.path).empty());
  EXPECT_NE(::stat((dir.path + "/capture-spool.key").c_str(), &st), 0) << "the key goes with the last segment";
}

TEST(AsyncTapSpool, AStopDuringTheReplayLeavesTheRestAndTheStartAfterReplaysItEachCallOnce) {
  TempDir dir;
  const std::vector<std::string> first = leave_a_backlog(dir.path, 25);
  ASSERT_FALSE(segment_files(dir.path).empty());
  // The next start is replaying when its stop comes: its worker is held in the first replayed call
  // while the stop's deadline passes.
  std::vector<std::string> second;
  {
    GateSink sink;
    sink.hold = true;
    AsyncTap tap(sink, spooled(dir.path, 64u << 20));
    sink.wait_holding();
    stop_while_held(tap, sink);
    second = sink.ids();
    EXPECT_FALSE(segment_files(dir.path).empty()) << "the rest of the replay stays spooled";
  }
  ASSERT_LT(first.size() + second.size(), expected_ids(2, 25).size());
  GateSink sink;
  AsyncTap tap(sink, spooled(dir.path, 64u << 20));
  send_after_the_replay(tap);
  std::vector<std::string> all = first;
  all.insert(all.end(), second.begin(), second.end());
  const std::vector<std::string> third = sink.ids();
  all.insert(all.end(), third.begin(), third.end() - 1);
  EXPECT_EQ(all, expected_ids(2, 25));  // each call once, in order, across the three taps
  EXPECT_TRUE(segment_files(dir.path).empty());
}

TEST(AsyncTapSpool, DamagedAndCutShortSegmentsAreSkippedCountedAndTheRestDecodes) {
  TempDir dir;
  leave_a_backlog(dir.path, 80);
  std::vector<std::string> segs = segment_files(dir.path);
  ASSERT_GE(segs.size(), 4u);
  // One segment with a flipped byte in its middle, one cut short, one made garbage.
  {
    std::string a = slurp(segs[1]);
    a[a.size() / 2] = static_cast<char>(a[a.size() / 2] ^ 1);
    std::ofstream(segs[1], std::ios::binary | std::ios::trunc) << a;
    ASSERT_EQ(::truncate(segs[2].c_str(), static_cast<off_t>(fs::file_size(segs[2]) - 7)), 0);
    std::ofstream(segs.back(), std::ios::binary | std::ios::trunc) << "not a segment at all";
  }
  GateSink sink;
  AsyncTap tap(sink, spooled(dir.path, 64u << 20));
  send_after_the_replay(tap);
  EXPECT_EQ(tap.stats().spool_segments_damaged, 3u);
  EXPECT_GT(tap.stats().replayed_records, 0u);
  EXPECT_EQ(sink.ids().back(), "chatcmpl-5000");
  EXPECT_TRUE(segment_files(dir.path).empty());
}

TEST(AsyncTapSpool, SegmentsWithoutTheirKeyAreDiscardedAndCounted) {
  TempDir dir;
  leave_a_backlog(dir.path, 10);
  const std::size_t n = segment_files(dir.path).size();
  ASSERT_GT(n, 0u);
  ASSERT_EQ(::unlink((dir.path + "/capture-spool.key").c_str()), 0);  // as after a kill
  GateSink sink;
  AsyncTap tap(sink, spooled(dir.path, 64u << 20));
  EXPECT_EQ(tap.stats().spool_segments_unreadable, n);
  EXPECT_TRUE(segment_files(dir.path).empty());
}

TEST(AsyncTapSpool, NoSpooledFileHoldsTheAuthorizationValueOrTheRequestBody) {
  TempDir dir;
  leave_a_backlog(dir.path, 20);
  const std::vector<std::string> segs = segment_files(dir.path);
  ASSERT_FALSE(segs.empty());
  std::size_t bytes = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir.path)) {
    if (!e.is_regular_file()) continue;
    const std::string content = slurp(e.path());
    bytes += content.size();
    EXPECT_EQ(content.find(kSecret), std::string::npos) << e.path();
    EXPECT_EQ(content.find("private question"), std::string::npos) << e.path();
    EXPECT_EQ(content.find("Authorization"), std::string::npos) << e.path();
    EXPECT_EQ(content.find("chatcmpl-"), std::string::npos) << e.path();
  }
  EXPECT_GT(bytes, 20u * 2 * 200);  // the traffic is there, sealed
}

}  // namespace
}  // namespace llmtap
