#pragma once
// OTLP/HTTP trace exporter. on_trace() only queues; the exporter's own thread batches spans (by
// size and delay), POSTs them, retries with exponential backoff on connection errors, 408, 429 and
// 5xx (honouring Retry-After), and while the endpoint is unreachable writes batches to a bounded
// on-disk spool that is delivered, oldest first, once it answers again (also by a later process).
// flush() (shutdown) keeps retrying with backoff until its deadline (stop_by(), else flush_timeout),
// so a short outage at exit loses nothing; only what is still undelivered then stays in the spool.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/sinks.h"
#include "export/otlp_config.h"

namespace llmtap::exporting {

class DiskSpool;
class HttpClient;

class OtlpExporter : public TraceSink {
 public:
  using Clock = std::chrono::steady_clock;
  static std::unique_ptr<OtlpExporter> create(OtlpConfig config, std::string* error);
  // Delivers or spools everything accepted (bounded by flush_timeout), then stops the thread.
  ~OtlpExporter() override;

  void on_trace(const Trace& trace) override;
  // Delivers everything accepted so far, retrying until the deadline; what is still undelivered
  // then waits in the spool.
  void flush() override;
  // flush() and the destructor finish by DEADLINE instead of flush_timeout from their call.
  void stop_by(Clock::time_point deadline) override;

  struct Stats {
    std::uint64_t spans_accepted = 0;
    std::uint64_t spans_delivered = 0;    // acknowledged with 2xx
    std::uint64_t batches_delivered = 0;
    std::uint64_t batches_spooled = 0;
    std::uint64_t failed_attempts = 0;    // connection errors and retryable statuses
    std::uint64_t spans_rejected = 0;     // permanent 4xx: dropped
    std::uint64_t spans_dropped = 0;      // memory queue or spool overflow
    std::size_t spool_files = 0;
  };
  Stats stats() const;

 private:
  enum class Outcome { kDelivered, kRetry, kRejected };

  explicit OtlpExporter(OtlpConfig config);
  void run();
  void process(std::vector<std::vector<Span>>& batches, bool flushing, Clock::time_point deadline);
  void retry_spool_until(Clock::time_point deadline);
  void drain_spool(Clock::time_point deadline, std::size_t max_files);
  Clock::time_point finish_deadline_locked() const;
  void log_final_counts();
  void spool_batch(const std::string& body, std::size_t spans);
  Outcome send(const std::string& body, std::string_view content_type, std::size_t spans,
               Clock::time_point deadline);

  OtlpConfig cfg_;
  std::unique_ptr<OtlpEncoder> encoder_;
  std::unique_ptr<HttpClient> http_;
  std::unique_ptr<DiskSpool> spool_;  // in memory when no spool directory is configured

  // Exporter-thread state.
  Clock::time_point next_attempt_{};  // backoff gate for any request
  std::chrono::milliseconds backoff_;
  std::uint64_t consecutive_failures_ = 0;

  mutable std::mutex mu_;
  std::condition_variable cv_;          // work, flush or stop
  std::condition_variable flushed_cv_;
  std::deque<Span> queue_;
  Clock::time_point oldest_queued_{};
  Clock::time_point retry_at_{};        // copy of next_attempt_ for the wait, when the spool holds batches
  bool spool_waiting_ = false;
  std::uint64_t flush_requested_ = 0, flush_completed_ = 0;
  Clock::time_point flush_deadline_{};
  Clock::time_point stop_deadline_ = Clock::time_point::max();  // set by stop_by()
  // Requests in flight abort at this point (set by flush() and shutdown), so neither waits on a
  // hanging endpoint longer than flush_timeout.
  std::atomic<Clock::rep> abort_at_{Clock::time_point::max().time_since_epoch().count()};
  bool stop_ = false;
  Stats stats_;
  std::thread thread_;
};

// Retry-After: delta-seconds or an HTTP-date; nullopt if absent or unparsable.
std::optional<std::chrono::milliseconds> parse_retry_after(const std::string& value);

}  // namespace llmtap::exporting
