#include "export/otlp_exporter.h"

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <ctime>
#include <random>
#include <spdlog/spdlog.h>

#include "common/version.h"
#include "export/disk_spool.h"
#include "export/http_client.h"
#include "export/redactor.h"
#include "common/thread_priority.h"

namespace llmtap::exporting {
namespace {

constexpr std::size_t kSpoolFilesPerRound = 32;  // then new spans get a turn (they go behind, in order)
constexpr auto kMaxRetryAfter = std::chrono::hours(1);

std::string_view content_type_for(std::string_view suffix) {
  return suffix == ".pb" ? "application/x-protobuf" : "application/json";
}

std::chrono::milliseconds jittered(std::chrono::milliseconds d) {
  thread_local std::mt19937 rng{std::random_device{}()};
  std::uniform_real_distribution<double> f(0.8, 1.2);
  return std::chrono::milliseconds(static_cast<std::int64_t>(static_cast<double>(d.count()) * f(rng)));
}

}  // namespace

std::optional<std::chrono::milliseconds> parse_retry_after(const std::string& value) {
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    if (value.size() > 7) return kMaxRetryAfter;
    return std::min<std::chrono::milliseconds>(std::chrono::seconds(std::stol(value)), kMaxRetryAfter);
  }
  std::tm tm{};
  const char* end = strptime(value.c_str(), "%a, %d %b %Y %H:%M:%S", &tm);
  if (!end) return std::nullopt;
  auto at = std::chrono::system_clock::from_time_t(timegm(&tm));
  auto delta = std::chrono::duration_cast<std::chrono::milliseconds>(at - std::chrono::system_clock::now());
  return std::clamp<std::chrono::milliseconds>(delta, std::chrono::milliseconds(0), kMaxRetryAfter);
}

std::unique_ptr<OtlpExporter> OtlpExporter::create(OtlpConfig config, std::string* error) {
  std::unique_ptr<OtlpExporter> e(new OtlpExporter(std::move(config)));
  e->encoder_ = make_otlp_encoder(e->cfg_.protocol);
  if (!e->encoder_) {
    *error = "unsupported OTLP protocol '" + e->cfg_.protocol + "' (use http/json or http/protobuf)";
    return nullptr;
  }
  e->http_ = HttpClient::create(e->cfg_.endpoint, e->cfg_.ca_file, error);
  if (!e->http_) return nullptr;
  // Without a directory the retry queue lives in memory (same bounds, lost at exit).
  e->spool_ = std::make_unique<DiskSpool>(e->cfg_.spool_dir, e->cfg_.spool_max_bytes, e->cfg_.spool_max_files,
                                          e->cfg_.delivery_policy());
  if (auto err = e->spool_->open(); !err.empty()) {
    *error = "OTLP spool: " + err;
    return nullptr;
  }
  e->spool_waiting_ = !e->spool_->empty();
  e->stats_.spool_files = e->spool_->files();
  spdlog::info("OTLP export to {} ({}{}{})", e->http_->url().loggable(), e->cfg_.protocol,
               e->cfg_.gzip ? ", gzip" : "", e->cfg_.headers.empty() ? "" : ", with configured headers");
  e->thread_ = std::thread([p = e.get()] {
    enter_background_thread("llmtap-otlp");
    p->run();
  });
  return e;
}

OtlpExporter::OtlpExporter(OtlpConfig config) : cfg_(std::move(config)), backoff_(cfg_.initial_backoff) {}

OtlpExporter::~OtlpExporter() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    flush_deadline_ = finish_deadline_locked();
    abort_at_ = std::min(abort_at_.load(), flush_deadline_.time_since_epoch().count());
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  log_final_counts();
}

void OtlpExporter::log_final_counts() {
  Stats s = stats();
  if (spool_->empty()) {
    if (s.spans_accepted > 0 || s.spans_delivered > 0)
      spdlog::info("OTLP export to {}: delivered {} span(s) in {} batch(es); none left in the spool",
                   http_->url().loggable(), s.spans_delivered, s.batches_delivered);
    return;
  }
  if (spool_->in_memory())
    spdlog::error("OTLP export to {}: delivered {} span(s); {} span(s) undelivered and lost (no spool directory "
                  "to keep them)",
                  http_->url().loggable(), s.spans_delivered, spool_->spans());
  else
    spdlog::warn("OTLP export to {}: delivered {} span(s); {} span(s) in {} batch(es) wait in the spool {} for "
                 "the next llmtap start",
                 http_->url().loggable(), s.spans_delivered, spool_->spans(), spool_->files(), cfg_.spool_dir);
}

OtlpExporter::Clock::time_point OtlpExporter::finish_deadline_locked() const {
  return stop_deadline_ != Clock::time_point::max() ? stop_deadline_ : Clock::now() + cfg_.flush_timeout;
}

void OtlpExporter::stop_by(Clock::time_point deadline) {
  std::lock_guard lock(mu_);
  stop_deadline_ = deadline;
}

void OtlpExporter::on_trace(const Trace& trace) {
  if (trace.spans.empty()) return;
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    if (queue_.size() + trace.spans.size() > cfg_.max_queue_spans) {
      if (stats_.spans_dropped == 0 || stats_.spans_dropped % 10000 < trace.spans.size())
        spdlog::warn("OTLP export queue full ({} spans): dropped {} span(s) so far", cfg_.max_queue_spans,
                     stats_.spans_dropped + trace.spans.size());
      stats_.spans_dropped += trace.spans.size();
      return;
    }
    if (queue_.empty()) {
      oldest_queued_ = Clock::now();
      wake = true;  // the thread may be waiting without a deadline
    }
    queue_.insert(queue_.end(), trace.spans.begin(), trace.spans.end());
    stats_.spans_accepted += trace.spans.size();
    wake = wake || queue_.size() >= cfg_.max_batch_spans;
  }
  if (wake) cv_.notify_all();
}

void OtlpExporter::flush() {
  std::unique_lock lock(mu_);
  std::uint64_t ticket = ++flush_requested_;
  flush_deadline_ = finish_deadline_locked();
  abort_at_ = std::min(abort_at_.load(), flush_deadline_.time_since_epoch().count());
  cv_.notify_all();
  // The thread bounds its own work by flush_deadline_; the margin covers one spool write.
  flushed_cv_.wait_until(lock, flush_deadline_ + std::chrono::seconds(2),
                         [&] { return flush_completed_ >= ticket; });
}

OtlpExporter::Stats OtlpExporter::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void OtlpExporter::run() {
  // A peer closing mid-write must fail the write, not kill the process.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  std::unique_lock lock(mu_);
  for (;;) {
    auto flush_pending = [&] { return stop_ || flush_requested_ > flush_completed_; };
    auto batch_due = [&](Clock::time_point now) {
      return !queue_.empty() && (queue_.size() >= cfg_.max_batch_spans || now >= oldest_queued_ + cfg_.batch_delay);
    };
    for (;;) {
      auto now = Clock::now();
      if (flush_pending() || batch_due(now) || (spool_waiting_ && now >= retry_at_)) break;
      auto wake = Clock::time_point::max();
      if (!queue_.empty()) wake = oldest_queued_ + cfg_.batch_delay;
      if (spool_waiting_) wake = std::min(wake, retry_at_);
      if (wake == Clock::time_point::max()) cv_.wait(lock);
      else cv_.wait_until(lock, wake);
    }
    bool flushing = flush_pending();
    std::uint64_t ticket = flush_requested_;
    Clock::time_point deadline = flushing ? flush_deadline_ : Clock::time_point::max();
    std::vector<std::vector<Span>> batches;
    auto now = Clock::now();
    while (!queue_.empty() && (flushing || batch_due(now))) {
      std::size_t n = std::min(queue_.size(), cfg_.max_batch_spans);
      batches.emplace_back(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.begin() + n));
      queue_.erase(queue_.begin(), queue_.begin() + n);
      oldest_queued_ = now;
    }
    lock.unlock();
    process(batches, flushing, deadline);
    if (flushing) retry_spool_until(deadline);
    lock.lock();
    spool_waiting_ = !spool_->empty();
    retry_at_ = next_attempt_;
    stats_.spool_files = spool_->files();
    if (flushing && queue_.empty()) {
      flush_completed_ = ticket;
      if (!stop_ && flush_completed_ == flush_requested_)
        abort_at_ = Clock::time_point::max().time_since_epoch().count();
      flushed_cv_.notify_all();
      if (stop_) return;
    }
  }
}

void OtlpExporter::process(std::vector<std::vector<Span>>& batches, bool flushing, Clock::time_point deadline) {
  if (!spool_->empty() && Clock::now() >= next_attempt_)
    drain_spool(deadline, flushing ? SIZE_MAX : kSpoolFilesPerRound);
  for (auto& batch : batches) {
    std::string body = encoder_->encode(cfg_.resource, batch);
    auto now = Clock::now();
    // In order: while older batches wait in the spool, or the endpoint is backing off, new ones queue
    // behind them on disk.
    bool direct = spool_->empty() && now >= next_attempt_ && now < deadline;
    if (direct) {
      Outcome o = send(body, encoder_->content_type(), batch.size(), deadline);
      if (o != Outcome::kRetry) continue;
    }
    spool_batch(body, batch.size());
  }
}

void OtlpExporter::retry_spool_until(Clock::time_point deadline) {
  // Flushing (shutdown): a collector that is briefly down (a restart, a 503 burst) must not leave
  // the run's spans behind, so keep to the backoff schedule until the deadline. Each round either
  // delivers or drops a batch, or moves next_attempt_ forward, so this ends.
  while (!spool_->empty()) {
    auto at = std::max(Clock::now(), next_attempt_);
    if (at >= deadline) return;
    std::this_thread::sleep_until(at);
    drain_spool(deadline, SIZE_MAX);
  }
}

void OtlpExporter::drain_spool(Clock::time_point deadline, std::size_t max_files) {
  std::size_t delivered = 0;
  for (std::size_t i = 0; i < max_files && !spool_->empty(); ++i) {
    auto now = Clock::now();
    if (now >= deadline || now < next_attempt_) break;
    DiskSpool::Entry e = *spool_->oldest();
    auto body = spool_->claim_oldest();
    if (!body) {
      spdlog::debug("OTLP spool: {} was taken by another llmtap process or is unreadable; skipping it", e.path);
      spool_->pop_oldest();
      continue;
    }
    Outcome o = send(*body, content_type_for(e.suffix), e.spans, deadline);
    if (o == Outcome::kRetry) {
      spool_->unclaim_oldest();
      break;
    }
    spool_->pop_oldest();
    if (o == Outcome::kDelivered) ++delivered;
  }
  if (delivered > 0) {
    if (spool_->empty()) spdlog::info("OTLP spool drained: delivered {} spooled batch(es)", delivered);
    else spdlog::debug("OTLP spool: delivered {} batch(es), {} left", delivered, spool_->files());
  }
}

void OtlpExporter::spool_batch(const std::string& body, std::size_t spans) {
  auto dropped_before = spool_->dropped_spans();
  bool ok = spool_->push(body, encoder_->file_suffix(), spans);
  std::lock_guard lock(mu_);
  if (ok) ++stats_.batches_spooled;
  stats_.spans_dropped += spool_->dropped_spans() - dropped_before;
}

OtlpExporter::Outcome OtlpExporter::send(const std::string& body, std::string_view content_type, std::size_t spans,
                                         Clock::time_point deadline) {
  std::vector<std::pair<std::string, std::string>> headers = {
      {"Content-Type", std::string(content_type)},
      {"User-Agent", "llmtap/" LLMTAP_VERSION},
  };
  std::string gz;
  if (cfg_.gzip) {
    gz = gzip_compress(body);
    headers.emplace_back("Content-Encoding", "gzip");
  }
  for (const auto& h : cfg_.headers) headers.push_back(h);
  auto now = Clock::now();
  auto timeout = cfg_.timeout;
  if (deadline != Clock::time_point::max())
    timeout = std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now),
                         std::chrono::milliseconds(1), cfg_.timeout);
  HttpResponse r = http_->post(headers, cfg_.gzip ? gz : body, timeout, [this] {
    return Clock::now().time_since_epoch().count() >= abort_at_.load();
  });

  if (r.status >= 200 && r.status < 300) {
    if (consecutive_failures_ > 0)
      spdlog::info("OTLP endpoint {} is reachable again after {} failed attempt(s)", http_->url().loggable(),
                   consecutive_failures_);
    consecutive_failures_ = 0;
    backoff_ = cfg_.initial_backoff;
    next_attempt_ = Clock::now();
    std::lock_guard lock(mu_);
    stats_.spans_delivered += spans;
    ++stats_.batches_delivered;
    return Outcome::kDelivered;
  }
  bool retryable = r.status == 0 || r.status == 408 || r.status == 429 || r.status >= 500;
  if (!retryable) {
    // The endpoint is up but refuses this batch: retrying would not help. Its answer may echo our
    // payload, which is redacted already; redact again in case it echoes headers.
    std::string snippet = Redactor().redact(r.body.substr(0, 300));
    spdlog::error("OTLP endpoint {} rejected a batch of {} span(s): HTTP {} {}", http_->url().loggable(), spans,
                  r.status, snippet);
    consecutive_failures_ = 0;
    backoff_ = cfg_.initial_backoff;
    std::lock_guard lock(mu_);
    stats_.spans_rejected += spans;
    return Outcome::kRejected;
  }
  auto retry_after = parse_retry_after(r.retry_after);
  auto delay = retry_after ? *retry_after : jittered(backoff_);
  backoff_ = std::min(backoff_ * 2, cfg_.max_backoff);
  next_attempt_ = Clock::now() + delay;
  ++consecutive_failures_;
  std::string reason = r.status ? "HTTP " + std::to_string(r.status) : r.error;
  // First failure and then every 10th: an outage must be visible without flooding the log.
  if (consecutive_failures_ == 1 || consecutive_failures_ % 10 == 0)
    spdlog::warn("OTLP export to {} failed ({}); retrying in {} ms{}, batches are kept in {}",
                 http_->url().loggable(), reason, delay.count(), retry_after ? " (Retry-After)" : "",
                 spool_->in_memory() ? std::string("memory (no spool directory)") : spool_->dir());
  std::lock_guard lock(mu_);
  ++stats_.failed_attempts;
  return Outcome::kRetry;
}

}  // namespace llmtap::exporting
