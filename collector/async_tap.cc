#include "collector/async_tap.h"

#include "collector/http_decoder_factory.h"
#include "common/thread_name.h"

namespace llmtap {

AsyncTap::AsyncTap(ModelCallSink& sink, AsyncTapOptions opts)
    : AsyncTap(make_http_decoder_factory(sink, opts.parser), opts) {}

AsyncTap::AsyncTap(std::unique_ptr<ConnectionDecoderFactory> factory, AsyncTapOptions opts)
    : factory_(std::move(factory)), opts_(opts) {
  worker_ = std::thread([this] {
    name_this_thread("llmtap-decode");
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
  // A busy worker takes the queue when it finishes its batch: waking it costs a syscall per record.
  if (worker_waiting_) wake_worker_.notify_one();
}

// Queues the gap owed to CONN/DIR after an earlier drop, if any. Returns whether one was queued.
bool AsyncTap::take_pending_gap_locked(std::uint64_t conn_id, Direction dir, UnixNanos ts) {
  if (pending_gaps_.empty() || pending_gaps_.erase({conn_id, dir}) == 0) return false;
  Event ev{Kind::kGap, dir, conn_id, ts, {}, nullptr};
  push_locked(std::move(ev));
  return true;
}

void AsyncTap::open(std::uint64_t conn_id, const ConnectionInfo& info, UnixNanos ts) noexcept {
  try {
    auto copy = std::make_unique<ConnectionInfo>(info);
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    ++stats_.connections_opened;
    push_locked(Event{Kind::kOpen, Direction::kClientToServer, conn_id, ts, {}, std::move(copy)});
  } catch (...) {
    // Out of memory: the connection stays unknown and its bytes are ignored by the worker.
  }
}

void AsyncTap::data(std::uint64_t conn_id, Direction dir, std::string_view bytes, UnixNanos ts) noexcept {
  if (bytes.empty()) return;
  // Copy before taking the lock: the forwarding threads then hold it only to queue the record.
  std::string copy;
  bool copied = false;
  try {
    copy.assign(bytes.data(), bytes.size());
    copied = true;
  } catch (...) {
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) return;
  const bool over_budget = opts_.budget && !opts_.budget->fits_hard(sizeof(Event) + bytes.size());
  if (!copied || stats_.queued_bytes + bytes.size() > opts_.max_queued_bytes || over_budget) {
    ++stats_.records_dropped;
    if (over_budget) ++stats_.records_dropped_over_budget;
    stats_.bytes_dropped += bytes.size();
    try {
      pending_gaps_.insert({conn_id, dir});
    } catch (...) {
    }
    return;
  }
  try {
    take_pending_gap_locked(conn_id, dir, ts);
    stats_.bytes_accepted += copy.size();
    push_locked(Event{Kind::kData, dir, conn_id, ts, std::move(copy), nullptr});
  } catch (...) {
    ++stats_.records_dropped;
    stats_.bytes_dropped += bytes.size();
  }
}

void AsyncTap::gap(std::uint64_t conn_id, Direction dir, UnixNanos ts) noexcept {
  try {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    if (!take_pending_gap_locked(conn_id, dir, ts)) {
      push_locked(Event{Kind::kGap, dir, conn_id, ts, {}, nullptr});
    }
  } catch (...) {
  }
}

void AsyncTap::close(std::uint64_t conn_id, UnixNanos ts) noexcept {
  try {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    take_pending_gap_locked(conn_id, Direction::kClientToServer, ts);
    take_pending_gap_locked(conn_id, Direction::kServerToClient, ts);
    push_locked(Event{Kind::kClose, Direction::kClientToServer, conn_id, ts, {}, nullptr});
  } catch (...) {
  }
}

void AsyncTap::flush() {
  std::unique_lock<std::mutex> lock(mu_);
  const std::uint64_t target = pushed_;
  drained_.wait(lock, [&] { return processed_ >= target || stopped_; });
}

void AsyncTap::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      if (!worker_.joinable()) return;
    }
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
  }
  if (const CaptureCounters* c = opts_.parser.counters.get()) {
    s.websocket_sessions = c->websocket_sessions.load(std::memory_order_relaxed);
    s.websocket_protocol_errors = c->websocket_protocol_errors.load(std::memory_order_relaxed);
    s.websocket_oversized_messages = c->websocket_oversized_messages.load(std::memory_order_relaxed);
    s.websocket_parse_errors = c->websocket_parse_errors.load(std::memory_order_relaxed);
  }
  return s;
}

void AsyncTap::run() {
  std::deque<Event> batch;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      while (queue_.empty() && !stopping_) {
        worker_waiting_ = true;
        wake_worker_.wait(lock);
        worker_waiting_ = false;
      }
      if (queue_.empty() && stopping_) break;
      batch.swap(queue_);
    }
    std::size_t bytes = 0, held = 0;
    for (Event& ev : batch) {
      bytes += ev.bytes.size();
      held += held_bytes(ev);
      process(ev);
    }
    const std::size_t n = batch.size();
    batch.clear();
    if (opts_.budget) opts_.budget->release(MemoryBudget::Account::kCaptureQueue, held);
    std::lock_guard<std::mutex> lock(mu_);
    stats_.queued_bytes -= bytes;
    processed_ += n;
    drained_.notify_all();
  }
  // Queue drained after stop: connections still open end now, exchanges in flight as incomplete.
  const UnixNanos ts = now_ns();
  for (auto& [id, decoder] : decoders_) decoder->close(ts);
  decoders_.clear();
  std::lock_guard<std::mutex> lock(mu_);
  stopped_ = true;
  drained_.notify_all();
}

void AsyncTap::process(Event& ev) {
  switch (ev.kind) {
    case Kind::kOpen: {
      auto it = decoders_.find(ev.conn_id);
      if (it != decoders_.end()) {  // id reused without a close: end the old connection first
        it->second->close(ev.ts);
        decoders_.erase(it);
      }
      try {
        decoders_.emplace(ev.conn_id, factory_->create(ev.conn_id, *ev.info));
      } catch (...) {
      }
      return;
    }
    case Kind::kData: {
      auto it = decoders_.find(ev.conn_id);
      if (it != decoders_.end()) it->second->data(ev.dir, ev.bytes, ev.ts);
      return;
    }
    case Kind::kGap: {
      auto it = decoders_.find(ev.conn_id);
      if (it != decoders_.end()) it->second->gap(ev.dir, ev.ts);
      return;
    }
    case Kind::kClose: {
      auto it = decoders_.find(ev.conn_id);
      if (it != decoders_.end()) {
        it->second->close(ev.ts);
        decoders_.erase(it);
      }
      return;
    }
  }
}

}  // namespace llmtap
