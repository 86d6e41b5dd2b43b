#include "collector/async_tap.h"

#include <spdlog/spdlog.h>

#include <map>

#include "collector/http_decoder_factory.h"
#include "common/thread_priority.h"

namespace llmtap {

namespace {

// A nap is short against a trace's life and long against a request at full speed: at 20k
// requests a second one nap takes about 40 of them.
constexpr std::chrono::milliseconds kNap{2};
constexpr std::size_t kNapWakeBytes = 256u << 10;

std::int64_t steady_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

// Where the worker was when the stop deadline came: memory records not yet decoded, or the rest
// of a spooled segment (its chunks' plaintext from the first undecoded record on).
struct AsyncTap::Cursor {
  bool cut = false;
  std::deque<Event> batch_rest;
  std::optional<capture::SpoolItem> item;
  std::unique_ptr<capture::Spool::Front> rest;  // the item's undecoded rest, being written
};

AsyncTap::AsyncTap(ModelCallSink& sink, AsyncTapOptions opts)
    : AsyncTap(make_http_decoder_factory(sink, opts.parser), opts) {}

AsyncTap::AsyncTap(std::unique_ptr<ConnectionDecoderFactory> factory, AsyncTapOptions opts)
    : factory_(std::move(factory)), opts_(opts), run_id_(capture::random_run_id()) {
  if (!opts_.spool.dir.empty()) {
    std::string e;
    capture::SpoolOptions so = opts_.spool;
    if (!so.budget) so.budget = opts_.budget;
    spool_ = capture::Spool::open(std::move(so), run_id_, &e);
    if (!spool_) {
      spdlog::warn("capture spool off ({}): capture the queue cannot hold is dropped", e);
    } else if (const capture::SpoolStats s = spool_->stats(); s.leftover_segments > 0) {
      // Replayed first: new records queue behind them.
      leftover_segments_left_ = s.leftover_segments;
      spooling_ = true;
      spooling_hint_.store(true, std::memory_order_relaxed);
      spdlog::info("capture spool: replaying {} segment(s), {} MB, that an earlier run left undecoded in {}",
                   s.leftover_segments, s.disk_bytes >> 20, opts_.spool.dir);
    }
  }
  worker_ = std::thread([this] {
    enter_background_thread("llmtap-decode");
    run();
  });
}

AsyncTap::~AsyncTap() { stop(); }

void AsyncTap::push_locked(Event&& ev) {
  if (ev.kind == Kind::kGap) ++stats_.gaps_marked;
  stats_.queued_bytes += ev.bytes.size();
  if (opts_.budget) opts_.budget->charge(MemoryBudget::Account::kCaptureQueue, held_bytes(ev));
  queue_.push_back(std::move(ev));
  ++pushed_;
  // A busy worker takes the queue when it finishes its batch, a napping one when it wakes.
  if (worker_state_ == WorkerState::kAsleep ||
      (worker_state_ == WorkerState::kNapping && stats_.queued_bytes >= kNapWakeBytes))
    wake_worker_locked();
}

void AsyncTap::wake_worker_locked() {
  if (worker_state_ == WorkerState::kBusy) return;
  worker_state_ = WorkerState::kBusy;  // one notify is enough until it waits again
  wake_worker_.notify_one();
}

void AsyncTap::queue_locked(Kind kind, Direction dir, std::uint64_t conn_id, UnixNanos ts,
                            std::unique_ptr<ConnectionInfo> info) {
  if (!spooling_) return push_locked(Event{kind, dir, conn_id, ts, {}, std::move(info)});
  if (spool_->append(kind, dir, conn_id, ts, {}, info.get())) {
    if (kind == Kind::kGap) ++stats_.gaps_marked;
    ++stats_.spooled_records;
    ++pushed_;
    return;
  }
  ++stats_.records_dropped;
  ++stats_.records_dropped_spool_full;
  // A lost gap still owes its mark; a lost open leaves the connection unknown (its bytes ignored).
  if (kind == Kind::kGap) pending_gaps_.insert({conn_id, dir});
}

// Queues the gap owed to CONN/DIR after an earlier drop, if any. Returns whether one was owed.
bool AsyncTap::take_pending_gap_locked(std::uint64_t conn_id, Direction dir, UnixNanos ts) {
  if (pending_gaps_.empty() || pending_gaps_.erase({conn_id, dir}) == 0) return false;
  queue_locked(Kind::kGap, dir, conn_id, ts, nullptr);
  return true;
}

void AsyncTap::note_drop_locked(std::uint64_t conn_id, Direction dir, std::size_t bytes) {
  ++stats_.records_dropped;
  stats_.bytes_dropped += bytes;
  try {
    pending_gaps_.insert({conn_id, dir});
  } catch (...) {
  }
}

void AsyncTap::open(std::uint64_t conn_id, const ConnectionInfo& info, UnixNanos ts) noexcept {
  try {
    auto copy = std::make_unique<ConnectionInfo>(info);
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    ++stats_.connections_opened;
    queue_locked(Kind::kOpen, Direction::kClientToServer, conn_id, ts, std::move(copy));
  } catch (...) {
    // Out of memory: the connection stays unknown and its bytes are ignored by the worker.
  }
}

void AsyncTap::data(std::uint64_t conn_id, Direction dir, std::string_view bytes, UnixNanos ts) noexcept {
  if (bytes.empty()) return;
  // Copy before taking the lock: the forwarding threads then hold it only to queue the record.
  // While spooling the record is encoded straight from BYTES instead.
  std::string copy;
  bool copied = false;
  auto copy_bytes = [&] {
    try {
      copy.assign(bytes.data(), bytes.size());
      copied = true;
    } catch (...) {
    }
  };
  if (!spooling_hint_.load(std::memory_order_relaxed)) copy_bytes();
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) return;
  if (!spooling_) {
    if (!copied) copy_bytes();  // the spool drained since the hint was read
    const bool over_budget = opts_.budget && !opts_.budget->fits_hard(sizeof(Event) + bytes.size());
    if (copied && stats_.queued_bytes + bytes.size() <= opts_.max_queued_bytes && !over_budget) {
      try {
        take_pending_gap_locked(conn_id, dir, ts);
        stats_.bytes_accepted += copy.size();
        push_locked(Event{Kind::kData, dir, conn_id, ts, std::move(copy), nullptr});
      } catch (...) {
        note_drop_locked(conn_id, dir, bytes.size());
      }
      return;
    }
    if (!spool_) {
      if (over_budget) ++stats_.records_dropped_over_budget;
      return note_drop_locked(conn_id, dir, bytes.size());
    }
    // From here on every record goes behind this one until the worker has drained the spool.
    spooling_ = true;
    spooling_hint_.store(true, std::memory_order_relaxed);
    wake_worker_locked();
  }
  try {
    take_pending_gap_locked(conn_id, dir, ts);
  } catch (...) {
  }
  if (spool_->append(Kind::kData, dir, conn_id, ts, bytes, nullptr)) {
    ++pushed_;
    ++stats_.spooled_records;
    stats_.spooled_bytes += bytes.size();
    stats_.bytes_accepted += bytes.size();
    return;
  }
  ++stats_.records_dropped_spool_full;
  note_drop_locked(conn_id, dir, bytes.size());
}

void AsyncTap::gap(std::uint64_t conn_id, Direction dir, UnixNanos ts) noexcept {
  try {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    if (!take_pending_gap_locked(conn_id, dir, ts)) queue_locked(Kind::kGap, dir, conn_id, ts, nullptr);
  } catch (...) {
  }
}

void AsyncTap::close(std::uint64_t conn_id, UnixNanos ts) noexcept {
  try {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    take_pending_gap_locked(conn_id, Direction::kClientToServer, ts);
    take_pending_gap_locked(conn_id, Direction::kServerToClient, ts);
    queue_locked(Kind::kClose, Direction::kClientToServer, conn_id, ts, nullptr);
  } catch (...) {
  }
}

void AsyncTap::flush() {
  std::unique_lock<std::mutex> lock(mu_);
  const std::uint64_t target = pushed_;
  if (processed_ < target) wake_worker_locked();  // now, not when its nap ends
  drained_.wait(lock, [&] { return processed_ >= target || stopped_; });
}

void AsyncTap::stop(std::chrono::steady_clock::time_point decode_until) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      if (!worker_.joinable()) return;
    }
    if (decode_until != std::chrono::steady_clock::time_point::max())
      decode_until_ns_.store(
          std::chrono::duration_cast<std::chrono::nanoseconds>(decode_until.time_since_epoch()).count(),
          std::memory_order_relaxed);
    stopping_ = true;
    wake_worker_.notify_one();
  }
  if (worker_.joinable()) worker_.join();
}

AsyncTapStats AsyncTap::stats() const {
  AsyncTapStats s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    s = stats_;
    s.spool_records = s.spooled_records - std::min(s.spooled_records, spooled_decoded_);
  }
  if (spool_) {
    const capture::SpoolStats sp = spool_->stats();
    s.spool_bytes = sp.disk_bytes + sp.pending_bytes;
    s.spool_segments_unreadable = sp.unreadable_segments;
  }
  if (const CaptureCounters* c = opts_.parser.counters.get()) {
    s.websocket_sessions = c->websocket_sessions.load(std::memory_order_relaxed);
    s.websocket_protocol_errors = c->websocket_protocol_errors.load(std::memory_order_relaxed);
    s.websocket_oversized_messages = c->websocket_oversized_messages.load(std::memory_order_relaxed);
    s.websocket_parse_errors = c->websocket_parse_errors.load(std::memory_order_relaxed);
  }
  return s;
}

// Without a spool nothing could keep the rest: the stop decodes everything, as it always did.
bool AsyncTap::past_deadline() const {
  const std::int64_t until = decode_until_ns_.load(std::memory_order_relaxed);
  return spool_ && until != INT64_MAX && steady_now_ns() >= until;
}

void AsyncTap::run() {
  Cursor cut;
  std::deque<Event> batch;
  bool nap = false;  // the last wait found records: traffic is dense enough to nap again
  for (;;) {
    bool from_spool = false;
    {
      std::unique_lock<std::mutex> lock(mu_);
      while (queue_.empty() && !spooling_ && !stopping_) {
        if (nap) {
          worker_state_ = WorkerState::kNapping;
          wake_worker_.wait_for(lock, kNap);
        } else {
          worker_state_ = WorkerState::kAsleep;
          wake_worker_.wait(lock);
        }
        worker_state_ = WorkerState::kBusy;
        nap = !nap;  // an empty nap ends the naps: sleep until a producer wakes it
      }
      nap = true;
      if (past_deadline()) {
        cut.cut = true;
        break;
      }
      if (!queue_.empty()) batch.swap(queue_);
      else if (spooling_) from_spool = true;
      else break;  // stopping, and nothing is left
    }
    if (from_spool) {
      if (!decode_spooled(cut)) break;
      continue;
    }
    std::size_t bytes = 0, held = 0, n = 0;
    for (Event& ev : batch) {
      if (past_deadline()) {
        cut.cut = true;
        break;
      }
      bytes += ev.bytes.size();
      held += held_bytes(ev);
      process(ev);
      ++n;
    }
    for (std::size_t i = n; i < batch.size(); ++i) cut.batch_rest.push_back(std::move(batch[i]));
    batch.clear();
    if (opts_.budget) opts_.budget->release(MemoryBudget::Account::kCaptureQueue, held);
    {
      std::lock_guard<std::mutex> lock(mu_);
      stats_.queued_bytes -= bytes;
      processed_ += n;
      drained_.notify_all();
    }
    if (cut.cut) break;
  }
  if (cut.cut) park(cut);
  // Connections still open end now, exchanges in flight as incomplete.
  const UnixNanos ts = now_ns();
  for (auto& [key, d] : decoders_) d.decoder->close(ts);
  decoders_.clear();
  std::lock_guard<std::mutex> lock(mu_);
  stopped_ = true;
  drained_.notify_all();
}

bool AsyncTap::decode_spooled(Cursor& cut) {
  std::optional<capture::SpoolItem> item = spool_->take(false);
  if (!item) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!spool_->has_unread()) {
        // Caught up: new records go to the memory queue again.
        spooling_ = false;
        spooling_hint_.store(false, std::memory_order_relaxed);
        return true;
      }
      spool_->seal();  // what the producers appended since: into a segment the worker can read
    }
    item = spool_->take(true);
    if (!item) return true;
  }
  if (item->path.empty()) {  // a chunk the writer could not write: its records are lost, gap-marked
    const UnixNanos ts = now_ns();
    for (const auto& [conn, dir] : item->lost)
      if (auto it = decoders_.find(conn); it != decoders_.end()) it->second.decoder->gap(dir, ts);
    std::lock_guard<std::mutex> lock(mu_);
    stats_.records_dropped += item->records;
    stats_.bytes_dropped += item->lost_bytes;
    done_with_spooled_locked(item->records);
    return true;
  }
  std::uint64_t replayed = 0;
  bool at_deadline = false;
  std::string bad_record;
  const std::string error = spool_->read(*item, [&](const capture::SegmentHeader& h, std::string& plaintext) {
    if (at_deadline) {  // the rest of the segment, kept for the next start
      cut.rest->add(plaintext);
      return true;
    }
    std::string_view in = plaintext;
    capture::RecordView rec;
    for (;;) {
      if (past_deadline()) {
        at_deadline = true;
        cut.rest = spool_->begin_front(h.run_id);
        cut.rest->add(in);
        return true;
      }
      const capture::DecodeStatus st = capture::next_record(in, rec, &bad_record);
      if (st == capture::DecodeStatus::kEnd) return true;
      if (st == capture::DecodeStatus::kBad) return false;
      process(rec.kind, h.run_id, rec.conn_id, rec.dir, rec.ts, rec.bytes, &rec.info);
      if (h.run_id != run_id_) ++replayed;
    }
  });
  if (at_deadline) {
    cut.cut = true;
    cut.item = std::move(item);
    std::lock_guard<std::mutex> lock(mu_);
    stats_.replayed_records += replayed;
    return false;
  }
  const bool damaged = !error.empty() || !bad_record.empty();
  if (damaged) {
    // Its undecoded records are lost: every connection may have had bytes among them.
    spdlog::warn("capture spool: {}: the rest of the segment is skipped",
                 error.empty() ? item->path + ": " + bad_record : error);
    const UnixNanos ts = now_ns();
    for (auto& [key, d] : decoders_) {
      d.decoder->gap(Direction::kClientToServer, ts);
      d.decoder->gap(Direction::kServerToClient, ts);
    }
  }
  spool_->remove(*item);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (damaged) ++stats_.spool_segments_damaged;
    stats_.replayed_records += replayed;
    done_with_spooled_locked(item->records);
  }
  if (item->leftover) {
    --leftover_segments_left_;
    finish_leftover_if_done();
  }
  return true;
}

// RECORDS of this process came out of the spool. When nothing is left in it, new records go to the
// memory queue again, decided before flush() can see them counted.
void AsyncTap::done_with_spooled_locked(std::uint64_t records) {
  spooled_decoded_ += records;
  processed_ += records;
  if (!spool_->has_unread()) {
    spooling_ = false;
    spooling_hint_.store(false, std::memory_order_relaxed);
  }
  drained_.notify_all();
}

// After the last segment an earlier run left: its connections still open end (that run is over).
void AsyncTap::finish_leftover_if_done() {
  if (leftover_segments_left_ > 0) return;
  const UnixNanos ts = now_ns();
  for (auto it = decoders_.begin(); it != decoders_.end();) {
    if (it->second.run == run_id_) {
      ++it;
      continue;
    }
    it->second.decoder->close(ts);
    it = decoders_.erase(it);
  }
  std::uint64_t replayed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    replayed = stats_.replayed_records;
  }
  spdlog::info("capture spool: replayed {} record(s) an earlier run left undecoded", replayed);
}

void AsyncTap::park(Cursor& cut) {
  std::string error;
  auto note = [&](const std::string& e) {
    if (!e.empty() && error.empty()) error = e;
  };
  if (cut.item) {
    // The rest of the segment the worker was in now stands before every other segment.
    note(cut.rest->finish());
    spool_->remove(*cut.item);
  } else {
    // Memory records not yet decoded precede every spooled one; each is freed once written.
    std::deque<Event> rest = std::move(cut.batch_rest);
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (Event& ev : queue_) rest.push_back(std::move(ev));
      queue_.clear();
      stats_.queued_bytes = 0;
    }
    std::unique_ptr<capture::Spool::Front> front = spool_->begin_front(run_id_);
    std::string chunk;
    while (!rest.empty()) {
      const Event& ev = rest.front();
      capture::append_record(chunk, ev.kind, ev.dir, ev.conn_id, ev.ts, ev.bytes, ev.info.get());
      if (opts_.budget) opts_.budget->release(MemoryBudget::Account::kCaptureQueue, held_bytes(ev));
      rest.pop_front();
      if (chunk.size() >= opts_.spool.chunk_bytes || rest.empty()) {
        front->add(chunk);
        chunk.clear();
      }
    }
    note(front->finish());
  }
  // The producers are stopped: whatever they appended reaches its segments.
  spool_->flush_to_disk();
  // Connections open at the cut continue in the spool: the replay opens them again, starting at a
  // gap (HTTP/1.1 resyncs at the next message; the exchange in flight ends incomplete here).
  if (!spool_->segments().empty()) {
    std::map<std::uint64_t, std::string> reopen;  // by run
    const UnixNanos ts = now_ns();
    for (const auto& [key, d] : decoders_) {
      std::string& chunk = reopen[d.run];
      capture::append_record(chunk, Kind::kOpen, Direction::kClientToServer, d.conn, ts, {}, &d.info);
      capture::append_record(chunk, Kind::kGap, Direction::kClientToServer, d.conn, ts, {}, nullptr);
      capture::append_record(chunk, Kind::kGap, Direction::kServerToClient, d.conn, ts, {}, nullptr);
    }
    for (const auto& [run, chunk] : reopen) {
      std::unique_ptr<capture::Spool::Front> front = spool_->begin_front(run);
      front->add(chunk);
      note(front->finish());
    }
  }
  note(spool_->persist_key());
  if (!error.empty()) spdlog::warn("capture spool: at the stop: {}", error);
  const capture::SpoolStats s = spool_->stats();
  {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.left_in_spool_bytes = s.disk_bytes;
  }
  if (s.disk_bytes > 0)
    spdlog::info("stopping: {} MB of capture left undecoded in {} (key in {}); the next start on this data "
                 "directory replays it",
                 s.disk_bytes >> 20, opts_.spool.dir, opts_.spool.key_path);
}

void AsyncTap::process(Kind kind, std::uint64_t run, std::uint64_t conn_id, Direction dir, UnixNanos ts,
                       std::string_view bytes, const ConnectionInfo* info) {
  const std::uint64_t key = decoder_key(run, conn_id);
  switch (kind) {
    case Kind::kOpen: {
      auto it = decoders_.find(key);
      if (it != decoders_.end()) {  // id reused without a close: end the old connection first
        it->second.decoder->close(ts);
        decoders_.erase(it);
      }
      if (!info) return;
      try {
        decoders_.emplace(key, Decoding{factory_->create(key, *info), *info, run, conn_id});
      } catch (...) {
      }
      return;
    }
    case Kind::kData: {
      auto it = decoders_.find(key);
      if (it != decoders_.end()) it->second.decoder->data(dir, bytes, ts);
      return;
    }
    case Kind::kGap: {
      auto it = decoders_.find(key);
      if (it != decoders_.end()) it->second.decoder->gap(dir, ts);
      return;
    }
    case Kind::kClose: {
      auto it = decoders_.find(key);
      if (it != decoders_.end()) {
        it->second.decoder->close(ts);
        decoders_.erase(it);
      }
      return;
    }
  }
}

}  // namespace llmtap
