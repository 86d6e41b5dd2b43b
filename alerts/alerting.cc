#include "alerts/alerting.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "alerts/alert_store.h"
#include "common/user_id_hash.h"

namespace llmtap::alerts {

std::string UserIdPolicy::apply(const std::string& id) const {
  if (id.empty() || raw) return id;
  return hash_user_id(salt, id);
}

std::unique_ptr<Alerting> Alerting::create(const RuleSet& rules, const std::string& store_path, std::string* error) {
  std::unique_ptr<Alerting> a(new Alerting(rules));
  for (const Rule& r : rules.rules) a->kinds_[r.name] = to_string(r.kind);
  a->actions_ = AlertActions::start(rules, store_path, error);
  if (!a->actions_) return nullptr;
  if (!store_path.empty()) a->warm(store_path);
  return a;
}

// The alerts still firing when the last run stopped stay firing: a restart does not fire them again
// (nor forget a spent budget), and their recovery completes the row written before the restart.
void Alerting::warm(const std::string& store_path) {
  AlertQuery q;
  q.firing_only = true;
  q.limit = 100000;
  std::string e;
  auto rows = list_alerts(store_path, q, &e);
  if (!rows) return spdlog::warn("alerts: cannot read the alerts still firing ({}); every rule starts clear", e);
  const std::vector<FiringAlert> firing = firing_alerts(*rows);
  if (firing.empty()) return;
  std::vector<AlertEvent> events;
  std::size_t taken = 0;
  {
    std::lock_guard lock(mu_);
    taken = evaluator_.restore(firing, now_ns(), events);
  }
  spdlog::info("alerts: {} alert{} still firing from the last run", taken, taken == 1 ? "" : "s");
  dispatch(events);
}

void Alerting::dispatch(std::vector<AlertEvent>& events) {
  for (const auto& e : events) actions_->dispatch(e);
}

void Alerting::on_call(const CallObservation& call) {
  std::vector<AlertEvent> events;
  {
    std::lock_guard lock(mu_);
    evaluator_.on_call(call, events);
  }
  dispatch(events);
}

std::vector<std::string> Alerting::on_trace(const Trace& trace, UnixNanos now) {
  std::vector<AlertEvent> events;
  std::vector<std::string> hit;
  {
    std::lock_guard lock(mu_);
    hit = evaluator_.on_trace(trace, now, events);
  }
  dispatch(events);
  return hit;
}

void Alerting::tick(UnixNanos now) {
  std::vector<AlertEvent> events;
  std::uint64_t dropped = 0;
  {
    std::lock_guard lock(mu_);
    evaluator_.tick(now, events);
    dropped = evaluator_.keys_dropped();
  }
  if (dropped > dropped_reported_) {
    spdlog::warn("alerts: {} subjects (users, sessions, tools, agents) not tracked: a rule's max_keys_per_rule was "
                 "reached", dropped - dropped_reported_);
    dropped_reported_ = dropped;
  }
  dispatch(events);
}

void AlertingTraceSink::mark(Trace& trace, std::vector<std::string> hit) const {
  Span& root = trace.spans.front();
  // An event per rule, at the root's end (when the trace was judged): the OTLP view of the alert.
  for (const auto& rule : hit)
    root.events.push_back({"llmtap.alert", std::max(root.end_ns, root.start_ns),
                           {{"llmtap.alert.rule", rule}, {"llmtap.alert.kind", alerting_.kind_of(rule)}}});
  root.set("llmtap.alerts", std::move(hit));
}

void AlertingTraceSink::on_trace(const Trace& trace) {
  std::vector<std::string> hit = alerting_.on_trace(trace, now_ns());
  if (hit.empty() || trace.spans.empty()) return next_.on_trace(trace);
  Trace marked = trace;  // only traces that set a rule off are copied, and only when shown, not taken
  mark(marked, std::move(hit));
  next_.take_trace(std::move(marked));
}

void AlertingTraceSink::take_trace(Trace&& trace) {
  std::vector<std::string> hit = alerting_.on_trace(trace, now_ns());
  if (!hit.empty() && !trace.spans.empty()) mark(trace, std::move(hit));
  next_.take_trace(std::move(trace));
}

void AlertingCallSink::on_model_call(ModelCall call) {
  if (call.kind == ExchangeKind::kModelCall && !call.state_only) {
    CallObservation obs;
    obs.at = call.timings.response_end ? call.timings.response_end : now_ns();
    obs.user_id = users_.apply(call.attribution.user_id);
    obs.session_id = call.attribution.session_id;
    if (auto cost = pricer_.price(call).cost) obs.cost_usd = pico_to_usd(cost->total());
    alerting_.on_call(obs);
  }
  next_.on_model_call(std::move(call));
}

}  // namespace llmtap::alerts
