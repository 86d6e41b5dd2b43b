#include "alerts/alert_actions.h"

#include <spdlog/spdlog.h>

#include "alerts/alert_store.h"
#include "common/thread_priority.h"
#include "export/http_client.h"
#include "export/span_json.h"

namespace llmtap::alerts {

nlohmann::json webhook_body(const AlertEvent& e) {
  nlohmann::json a = {{"rule", e.rule},
                      {"kind", to_string(e.kind)},
                      {"state", e.state == AlertEvent::State::kFired ? "fired" : "recovered"},
                      {"subject", e.subject},
                      {"at_ns", e.at},
                      {"value", e.value},
                      {"threshold", e.threshold}};
  if (!e.trace_id.empty()) a["trace_id"] = e.trace_id;
  if (e.resets_at) a["resets_at_ns"] = e.resets_at;
  return {{"text", "llmtap: " + e.message}, {"alert", std::move(a)}};
}

std::unique_ptr<AlertActions> AlertActions::start(const RuleSet& rules, const std::string& store_path,
                                                  std::string* error) {
  std::unique_ptr<AlertActions> a(new AlertActions());
  a->webhook_ = rules.webhook;
  for (const auto& r : rules.rules)
    if (!r.webhook) a->no_webhook_.insert(r.name);
  if (!a->webhook_.url.empty()) {
    std::string e;
    a->client_ = exporting::HttpClient::create(a->webhook_.url, "", &e);
    if (!a->client_) {
      *error = "alert webhook: " + e;
      return nullptr;
    }
  }
  a->store_path_ = store_path;
  a->thread_ = std::thread([p = a.get()] {
    enter_background_thread("llmtap-alerts");
    p->run();
  });
  return a;
}

AlertActions::~AlertActions() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    // What is still queued gets a bounded time: the process must exit within 10 s of SIGTERM.
    stop_deadline_ = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void AlertActions::dispatch(const AlertEvent& e) {
  if (e.state == AlertEvent::State::kFired) spdlog::warn("{}", e.message);
  else spdlog::info("{}", e.message);
  std::lock_guard lock(mu_);
  ++(e.state == AlertEvent::State::kFired ? stats_.fired : stats_.recovered);
  if (queue_.size() >= webhook_.max_queued) {
    if (++stats_.dropped == 1) spdlog::warn("alerts: more than {} waiting for the store and webhook; dropping", queue_.size());
    return;
  }
  queue_.push_back(e);
  cv_.notify_one();
}

AlertActionStats AlertActions::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void AlertActions::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, everything delivered
    if (stop_ && std::chrono::steady_clock::now() >= stop_deadline_) {
      spdlog::warn("alerts: {} not stored or posted: out of time while stopping", queue_.size());
      return;
    }
    AlertEvent e = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    deliver(e);
    lock.lock();
  }
}

void AlertActions::deliver(const AlertEvent& e) {
  if (!store_path_.empty()) {
    std::string err;
    if (!store_) store_ = AlertStore::open(store_path_, &err);  // retried per alert: the disk may recover
    if (store_) err = store_->record(e);
    std::lock_guard lock(mu_);
    ++(err.empty() ? stats_.stored : stats_.store_failed);
    if (!err.empty() && stats_.store_failed == 1) spdlog::warn("alerts: {} (further failures are counted, not logged)", err);
  }
  if (client_ && !no_webhook_.count(e.rule)) {
    const std::string body = exporting::dump_json(webhook_body(e));
    exporting::HttpResponse r = client_->post({{"Content-Type", "application/json"}}, body, webhook_.timeout);
    const bool ok = r.status >= 200 && r.status < 300;
    if (!ok)  // host and port only: webhook paths carry secrets (Slack's do)
      spdlog::warn("alert webhook {}://{}:{}: {}", client_->url().scheme, client_->url().host, client_->url().port,
                   r.status ? "HTTP " + std::to_string(r.status) : r.error);
    std::lock_guard lock(mu_);
    ++(ok ? stats_.webhook_sent : stats_.webhook_failed);
  }
}

}  // namespace llmtap::alerts
