#pragma once
// Where alerts go: a log line at once, then, on the actions' own thread (never the capture path), a
// row in the store and a webhook POST (JSON with a Slack-compatible `text`). The queue is bounded:
// past max_queued an alert still gets its log line and is counted as dropped.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "alerts/alert_event.h"
#include "alerts/rules.h"

namespace llmtap::exporting {
class HttpClient;
}

namespace llmtap::alerts {

class AlertStore;

struct AlertActionStats {
  std::uint64_t fired = 0, recovered = 0;
  std::uint64_t webhook_sent = 0, webhook_failed = 0;
  std::uint64_t stored = 0, store_failed = 0;
  std::uint64_t dropped = 0;  // queue full
};

class AlertActions {
 public:
  // STORE_PATH "" for no store rows. nullptr and *error when the webhook URL is unusable.
  static std::unique_ptr<AlertActions> start(const RuleSet& rules, const std::string& store_path, std::string* error);
  ~AlertActions();  // finishes what is queued (each POST bounded by its timeout), then stops
  void dispatch(const AlertEvent& event);
  AlertActionStats stats() const;

 private:
  AlertActions() = default;
  void run();
  void deliver(const AlertEvent& event);

  WebhookConfig webhook_;
  std::set<std::string> no_webhook_;  // rules with webhook: false
  std::unique_ptr<exporting::HttpClient> client_;
  std::unique_ptr<AlertStore> store_;
  std::string store_path_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<AlertEvent> queue_;
  bool stop_ = false;
  std::chrono::steady_clock::time_point stop_deadline_;
  AlertActionStats stats_;  // under mu_
  std::thread thread_;
};

// The webhook's JSON body: {"text": MESSAGE, "alert": {...}}.
nlohmann::json webhook_body(const AlertEvent& event);

}  // namespace llmtap::alerts
