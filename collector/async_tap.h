#pragma once
// The Tap both capture paths report to. The forwarding side only copies bytes into a queue bounded
// by bytes and returns: it never blocks on decoding. When the queue is full the bytes are dropped,
// counted, and the next record of that connection direction is preceded by a gap, so the decoders
// drop the exchanges spanning it. One worker thread feeds a decoder per connection (HTTP/1.1 or
// HTTP/2, see http_decoder_factory.h), which emit ModelCalls to the sink (called on that thread).
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>

#include "collector/connection_decoder.h"
#include "collector/tap.h"
#include "common/memory_budget.h"
#include "common/sinks.h"
#include "parsers/exchange_parser.h"

namespace llmtap {

struct AsyncTapOptions {
  std::size_t max_queued_bytes = 64u << 20;  // payload bytes waiting for the worker
  // The pipeline's shared budget (common/memory_budget.h), or null. The queue charges what it
  // holds to it and drops once the whole budget is used: the last holder to give way.
  std::shared_ptr<MemoryBudget> budget;
  ParserOptions parser;
};

struct AsyncTapStats {
  std::uint64_t bytes_accepted = 0;
  std::uint64_t bytes_dropped = 0;
  std::uint64_t records_dropped = 0;  // data() calls dropped because the queue was full
  std::uint64_t records_dropped_over_budget = 0;  // of those, dropped because the shared budget was used up
  std::uint64_t gaps_marked = 0;      // gaps queued (from drops here or reported by the capture side)
  std::uint64_t connections_opened = 0;
  std::size_t queued_bytes = 0;
  // Capture-side decoding problems (never affecting the relay), from ParserOptions::counters.
  std::uint64_t websocket_sessions = 0;
  std::uint64_t websocket_protocol_errors = 0;
  std::uint64_t websocket_oversized_messages = 0;
  std::uint64_t websocket_parse_errors = 0;
};

class AsyncTap final : public Tap {
 public:
  // Decodes HTTP/1.1 and HTTP/2 connections into ModelCalls for SINK.
  AsyncTap(ModelCallSink& sink, AsyncTapOptions opts = {});
  // Uses FACTORY's decoders (tests, other protocols).
  AsyncTap(std::unique_ptr<ConnectionDecoderFactory> factory, AsyncTapOptions opts);
  ~AsyncTap() override;
  AsyncTap(const AsyncTap&) = delete;
  AsyncTap& operator=(const AsyncTap&) = delete;

  void open(std::uint64_t conn_id, const ConnectionInfo& info, UnixNanos ts) noexcept override;
  void data(std::uint64_t conn_id, Direction dir, std::string_view bytes, UnixNanos ts) noexcept override;
  void gap(std::uint64_t conn_id, Direction dir, UnixNanos ts) noexcept override;
  void close(std::uint64_t conn_id, UnixNanos ts) noexcept override;

  // Returns once everything queued before the call has been decoded (and its calls emitted).
  void flush();
  // Flushes, ends the connections still open (their exchanges finish as incomplete), and joins the
  // worker. Later Tap calls are ignored. Idempotent.
  void stop();

  AsyncTapStats stats() const;

 private:
  enum class Kind : std::uint8_t { kOpen, kData, kGap, kClose };
  struct Event {
    Kind kind;
    Direction dir = Direction::kClientToServer;
    std::uint64_t conn_id = 0;
    UnixNanos ts = 0;
    std::string bytes;
    std::unique_ptr<ConnectionInfo> info;
  };

  // What an event holds in memory while queued, as charged to the budget.
  static std::size_t held_bytes(const Event& ev) { return sizeof(Event) + ev.bytes.capacity(); }
  void push_locked(Event&& ev);
  bool take_pending_gap_locked(std::uint64_t conn_id, Direction dir, UnixNanos ts);
  void run();
  void process(Event& ev);

  std::unique_ptr<ConnectionDecoderFactory> factory_;
  const AsyncTapOptions opts_;

  mutable std::mutex mu_;
  std::condition_variable wake_worker_;
  std::condition_variable drained_;
  std::deque<Event> queue_;
  std::set<std::pair<std::uint64_t, Direction>> pending_gaps_;  // dropped since last queued record
  std::uint64_t pushed_ = 0;     // events queued so far
  std::uint64_t processed_ = 0;  // events fully processed by the worker
  bool stopping_ = false;
  bool stopped_ = false;
  bool worker_waiting_ = false;  // the worker sleeps on wake_worker_ (set and read under mu_)
  AsyncTapStats stats_;

  // Worker-only state.
  std::unordered_map<std::uint64_t, std::unique_ptr<ConnectionDecoder>> decoders_;
  std::thread worker_;
};

}  // namespace llmtap
