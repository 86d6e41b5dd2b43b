#pragma once
// The Tap both capture paths report to. The forwarding side only copies bytes into a queue bounded
// by bytes and returns: it never blocks on decoding. When the queue is full the records go to the
// capture spool instead (collector/capture_spool.h, encrypted segments on disk), and every later
// record goes behind them until the worker has drained the spool, so order is kept. Only when there
// is no spool, or it is full or cannot be written, are bytes dropped, counted, and the next record
// of that connection direction is preceded by a gap, so the decoders drop the exchanges spanning
// it. One worker thread feeds a decoder per connection (HTTP/1.1 or HTTP/2, see
// http_decoder_factory.h), which emit ModelCalls to the sink (called on that thread); it takes the
// memory queue, then the spool's segments in order. Segments an earlier process left are replayed
// first, their connection ids kept apart from this process's.
#include <atomic>
#include <chrono>
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

#include "collector/capture_spool.h"
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
  // Where records go that the queue cannot hold; an empty spool.dir: none (they are dropped).
  capture::SpoolOptions spool;
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
  // The capture spool (all 0 without one).
  std::uint64_t spooled_records = 0;        // records deferred to the spool by this process
  std::uint64_t spooled_bytes = 0;          // their payload bytes
  std::uint64_t spool_records = 0;          // of those, not yet decoded
  std::uint64_t spool_bytes = 0;            // bytes the spool holds now (on disk and waiting for its writer)
  std::uint64_t records_dropped_spool_full = 0;  // of records_dropped, those the spool refused too (with opens, gaps, closes)
  std::uint64_t replayed_records = 0;       // decoded from segments an earlier process left
  std::uint64_t spool_segments_damaged = 0;  // segments that could not be read to their end (skipped, gap-marked)
  std::uint64_t spool_segments_unreadable = 0;  // left without a key by a killed process: discarded
  std::uint64_t left_in_spool_bytes = 0;    // after stop(): undecoded bytes left for the next start
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
  // Decodes what is queued and spooled until DECODE_UNTIL, ends the connections still open (their
  // exchanges finish as incomplete), and joins the worker. With a spool, what is left undecoded at
  // DECODE_UNTIL stays in it (its key kept beside it) for the next AsyncTap on the same directory;
  // without one everything is decoded. Later Tap calls are ignored. Idempotent.
  void stop(std::chrono::steady_clock::time_point decode_until = std::chrono::steady_clock::time_point::max());

  AsyncTapStats stats() const;

 private:
  using Kind = capture::RecordKind;
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
  // A connection the worker decodes; RUN and CONN as captured (RUN: the capturing process).
  struct Decoding {
    std::unique_ptr<ConnectionDecoder> decoder;
    ConnectionInfo info;
    std::uint64_t run = 0, conn = 0;
  };
  struct Cursor;  // where the worker stopped when the stop deadline came (async_tap.cc)

  void push_locked(Event&& ev);
  void wake_worker_locked();
  // Queues an open, gap or close: to the memory queue, or behind the spooled records.
  void queue_locked(Kind kind, Direction dir, std::uint64_t conn_id, UnixNanos ts,
                    std::unique_ptr<ConnectionInfo> info);
  bool take_pending_gap_locked(std::uint64_t conn_id, Direction dir, UnixNanos ts);
  void note_drop_locked(std::uint64_t conn_id, Direction dir, std::size_t bytes);
  bool past_deadline() const;
  void run();
  // Decodes the spool's oldest segment; false when the stop deadline came in it (*CUT set).
  bool decode_spooled(Cursor& cut);
  void done_with_spooled_locked(std::uint64_t records);
  void finish_leftover_if_done();
  void park(Cursor& cut);  // at the stop deadline: leaves the undecoded rest in the spool
  void process(Event& ev) { process(ev.kind, run_id_, ev.conn_id, ev.dir, ev.ts, ev.bytes, ev.info.get()); }
  void process(Kind kind, std::uint64_t run, std::uint64_t conn_id, Direction dir, UnixNanos ts,
               std::string_view bytes, const ConnectionInfo* info);
  std::uint64_t decoder_key(std::uint64_t run, std::uint64_t conn) const { return run == run_id_ ? conn : conn ^ run; }

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
  // How the worker waits on wake_worker_ (set and read under mu_). While records keep coming it naps
  // (a timed wait) and takes what queued meanwhile: a producer wakes it only when it sleeps, or when
  // a nap's records pass kNapWakeBytes. Waking it for every record cost two futex calls a request.
  enum class WorkerState { kBusy, kNapping, kAsleep };
  WorkerState worker_state_ = WorkerState::kBusy;
  // Records go to the spool, behind what it holds, until the worker has drained it (under mu_).
  bool spooling_ = false;
  std::atomic<bool> spooling_hint_{false};  // spooling_, read without the lock to skip a copy
  std::uint64_t spooled_decoded_ = 0;       // this process's spooled records decoded (or lost)
  AsyncTapStats stats_;
  std::unique_ptr<capture::Spool> spool_;
  const std::uint64_t run_id_;  // random, top bit set: keeps replayed connection ids apart
  std::atomic<std::int64_t> decode_until_ns_{INT64_MAX};  // steady clock; stop() sets it

  // Worker-only state.
  std::unordered_map<std::uint64_t, Decoding> decoders_;  // by decoder_key()
  std::uint64_t leftover_segments_left_ = 0;
  std::uint64_t replay_logged_records_ = 0;
  std::thread worker_;
};

}  // namespace llmtap
