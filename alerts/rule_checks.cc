// One RuleCheck per rule kind. They share the firing latch (fire once, recover once) and the
// bounded map of subjects; what differs is what they measure and when the condition ends.
#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <ctime>
#include <functional>
#include <optional>
#include <unordered_map>

#include "alerts/evaluator.h"
#include "alerts/latency_sketch.h"
#include "alerts/sliding_window.h"
#include "alerts/time_text.h"
#include "alerts/trace_facts.h"

namespace llmtap::alerts {
namespace {

// Fires once, recovers once; remembers the last time the condition held.
struct Latch {
  bool firing = false;
  UnixNanos last_hit = 0;
};

class CheckBase : public RuleCheck {
 public:
  explicit CheckBase(const Rule& rule) : rule_(rule) {}

 protected:
  AlertEvent event(AlertEvent::State state, std::string subject, UnixNanos at, double value, double threshold) const {
    AlertEvent e;
    e.state = state;
    e.rule = rule_.name;
    e.kind = rule_.kind;
    e.subject = std::move(subject);
    e.at = at;
    e.value = value;
    e.threshold = threshold;
    return e;
  }
  // "rule NAME (SUBJECT): WHAT" / "rule NAME (SUBJECT) recovered: WHAT"
  void emit(std::vector<AlertEvent>& out, AlertEvent e, const std::string& what) const {
    e.message = fmt::format("alert {}{}{}: {}", e.rule, e.subject.empty() ? "" : " (" + e.subject + ")",
                            e.state == AlertEvent::State::kRecovered ? " recovered" : "", what);
    out.push_back(std::move(e));
  }
  const Rule rule_;
};

// Per-trace conditions (trace_cost, loop): the first offending trace fires; the rule recovers once
// `window` passes without another.
class TraceConditionCheck final : public CheckBase {
 public:
  using CheckBase::CheckBase;

  bool on_trace(const TraceFacts& t, UnixNanos now, std::vector<AlertEvent>& out) override {
    double value = 0, threshold = 0;
    std::string what;
    if (rule_.kind == RuleKind::kTraceCost) {
      if (!t.cost_usd || *t.cost_usd <= rule_.max_usd) return false;
      value = *t.cost_usd, threshold = rule_.max_usd;
      what = fmt::format("trace {} ({}) cost {}, over {}", t.trace_id, t.workflow.empty() ? "-" : t.workflow, usd_text(value),
                         usd_text(threshold));
    } else if (rule_.repeats > 0 && t.most_repeats >= rule_.repeats) {
      value = static_cast<double>(t.most_repeats), threshold = static_cast<double>(rule_.repeats);
      what = fmt::format("trace {} ({}) called tool {} {} times with the same arguments (limit {})", t.trace_id,
                         t.workflow.empty() ? "-" : t.workflow, t.most_repeated_tool, t.most_repeats, rule_.repeats);
    } else if (rule_.max_model_calls > 0 && t.model_calls > rule_.max_model_calls) {
      value = static_cast<double>(t.model_calls), threshold = static_cast<double>(rule_.max_model_calls);
      what = fmt::format("trace {} ({}) made {} model calls, more than {}", t.trace_id,
                         t.workflow.empty() ? "-" : t.workflow, t.model_calls, rule_.max_model_calls);
    } else {
      return false;
    }
    latch_.last_hit = now;
    if (!latch_.firing) {
      latch_.firing = true;
      AlertEvent e = event(AlertEvent::State::kFired, "", now, value, threshold);
      e.trace_id = t.trace_id;
      emit(out, std::move(e), what);
    }
    return true;
  }

  void restore(const FiringAlert& a, UnixNanos, std::vector<AlertEvent>&) override {
    latch_.firing = true;
    latch_.last_hit = std::max(latch_.last_hit, a.fired_at);
  }

  void tick(UnixNanos now, std::vector<AlertEvent>& out) override {
    if (!latch_.firing || now - latch_.last_hit < rule_.window) return;
    latch_.firing = false;
    emit(out, event(AlertEvent::State::kRecovered, "", now, 0, 0),
         fmt::format("no offending trace in the last {}", duration_text(rule_.window)));
  }

 private:
  Latch latch_;
};

// spend: everything priced in the last `window`, summed.
class RollingSpendCheck final : public CheckBase {
 public:
  explicit RollingSpendCheck(const Rule& r) : CheckBase(r), window_(r.window) {}

  void on_call(const CallObservation& c, std::vector<AlertEvent>& out) override {
    if (!c.cost_usd) return;
    window_.at(c.at) += *c.cost_usd;
    const double sum = total();
    if (latch_.firing || sum <= rule_.max_usd) return;
    latch_.firing = true;
    emit(out, event(AlertEvent::State::kFired, "", c.at, sum, rule_.max_usd),
         fmt::format("spent {} in the last {}, over {}", usd_text(sum), duration_text(rule_.window), usd_text(rule_.max_usd)));
  }

  // The spend measured at the firing stands in the window at the firing's time until it ages out.
  void restore(const FiringAlert& a, UnixNanos now, std::vector<AlertEvent>&) override {
    latch_.firing = true;
    window_.advance(now);
    if (now - a.fired_at < rule_.window) window_.at(a.fired_at) += a.value;
  }

  void tick(UnixNanos now, std::vector<AlertEvent>& out) override {
    window_.advance(now);
    const double sum = total();
    if (!latch_.firing || sum > rule_.max_usd) return;
    latch_.firing = false;
    emit(out, event(AlertEvent::State::kRecovered, "", now, sum, rule_.max_usd),
         fmt::format("spent {} in the last {} (limit {})", usd_text(sum), duration_text(rule_.window), usd_text(rule_.max_usd)));
  }

 private:
  double total() const {
    double sum = 0;
    window_.for_each([&](double v) { sum += v; });
    return sum;
  }
  SlidingWindow<double> window_;
  Latch latch_;
};

// user_budget / session_budget: spend per subject in the current period (aligned to UTC). Spent
// once it reaches max_usd; every spent budget recovers when the period ends.
class BudgetCheck final : public CheckBase {
 public:
  BudgetCheck(const Rule& r, std::size_t max_keys, BudgetBook* book) : CheckBase(r), max_keys_(max_keys), book_(book) {}

  void on_call(const CallObservation& c, std::vector<AlertEvent>& out) override {
    const std::string& id = rule_.kind == RuleKind::kUserBudget ? c.user_id : c.session_id;
    if (id.empty() || !c.cost_usd) return;
    roll(c.at, out);
    auto it = spent_.find(id);
    if (it == spent_.end()) {
      if (spent_.size() >= max_keys_) return void(++dropped_);
      it = spent_.emplace(id, Subject{}).first;
    }
    Subject& s = it->second;
    s.usd += *c.cost_usd;
    if (s.spent || s.usd < rule_.max_usd) return;
    s.spent = true;
    const UnixNanos resets = period_start_ + rule_.window;
    if (book_ && rule_.enforce) book_->spend(scope(), id, {rule_.name, rule_.max_usd, s.usd, resets});
    AlertEvent e = event(AlertEvent::State::kFired, subject(id), c.at, s.usd, rule_.max_usd);
    e.resets_at = resets;
    emit(out, std::move(e),
         fmt::format("spent {} of its {} budget per {}; resets {}", usd_text(s.usd), usd_text(rule_.max_usd),
                     duration_text(rule_.window), utc_minutes(resets)));
  }

  void tick(UnixNanos now, std::vector<AlertEvent>& out) override { roll(now, out); }
  std::uint64_t keys_dropped() const override { return dropped_; }

  // A budget spent in the current period stays spent (and enforced); one of a period that has
  // ended recovers at the reset it missed.
  void restore(const FiringAlert& a, UnixNanos now, std::vector<AlertEvent>& out) override {
    const std::string prefix = subject("");
    if (a.subject.compare(0, prefix.size(), prefix) != 0) return;
    const std::string id = a.subject.substr(prefix.size());
    roll(now, out);
    if (a.fired_at < period_start_) {
      const UnixNanos reset = a.resets_at ? a.resets_at : a.fired_at - a.fired_at % rule_.window + rule_.window;
      emit(out, event(AlertEvent::State::kRecovered, a.subject, reset, a.value, rule_.max_usd),
           fmt::format("budget reset ({} spent in the period that ended)", usd_text(a.value)));
      return;
    }
    if (spent_.size() >= max_keys_ && !spent_.count(id)) return void(++dropped_);
    Subject& s = spent_[id];
    s.usd = std::max(s.usd, a.value);
    s.spent = true;
    if (book_ && rule_.enforce) book_->spend(scope(), id, {rule_.name, rule_.max_usd, s.usd, period_start_ + rule_.window});
  }

 private:
  struct Subject {
    double usd = 0;
    bool spent = false;
  };
  BudgetBook::Scope scope() const {
    return rule_.kind == RuleKind::kUserBudget ? BudgetBook::Scope::kUser : BudgetBook::Scope::kSession;
  }
  std::string subject(const std::string& id) const {
    return (rule_.kind == RuleKind::kUserBudget ? "user " : "session ") + id;
  }
  // A new period: every spent budget recovers and every subject starts again from zero.
  void roll(UnixNanos now, std::vector<AlertEvent>& out) {
    const UnixNanos start = now - now % rule_.window;
    if (start <= period_start_) return;
    for (const auto& [id, s] : spent_) {
      if (!s.spent) continue;
      if (book_) book_->reset(scope(), id, rule_.name);
      emit(out, event(AlertEvent::State::kRecovered, subject(id), start, s.usd, rule_.max_usd),
           fmt::format("budget reset ({} spent in the period that ended)", usd_text(s.usd)));
    }
    spent_.clear();
    period_start_ = start;
  }
  const std::size_t max_keys_;
  BudgetBook* book_;
  UnixNanos period_start_ = 0;
  std::unordered_map<std::string, Subject> spent_;
  std::uint64_t dropped_ = 0;
};

// Rolling per-subject measures (tool failure rate, agent p95): a window per subject, checked when
// traces add to it and on every tick; a subject with nothing left in its window is forgotten.
template <class Slot>
class KeyedWindowCheck : public CheckBase {
 public:
  KeyedWindowCheck(const Rule& r, std::size_t max_keys) : CheckBase(r), max_keys_(max_keys) {}

  bool on_trace(const TraceFacts& t, UnixNanos now, std::vector<AlertEvent>& out) override {
    touched_.clear();
    bool hit = false;
    each_sample(t, [&](const std::string& key, auto&& add) {
      if (!rule_.only.empty() && key != rule_.only) return;
      auto it = subjects_.find(key);
      if (it == subjects_.end()) {
        if (subjects_.size() >= max_keys_) return void(++dropped_);
        it = subjects_.emplace(key, Subject{SlidingWindow<Slot>(rule_.window), {}}).first;
      }
      add(it->second.window.at(now));
      touched_.push_back(key);
    });
    std::sort(touched_.begin(), touched_.end());  // each subject checked once per trace
    touched_.erase(std::unique(touched_.begin(), touched_.end()), touched_.end());
    for (const auto& key : touched_) hit = check(key, subjects_.at(key), now, out) || hit;
    return hit;
  }

  // Held firing until the window has passed since the firing, unless the window fills up again
  // and says otherwise first.
  void restore(const FiringAlert& a, UnixNanos, std::vector<AlertEvent>&) override {
    const std::string prefix = subject("");
    if (a.subject.compare(0, prefix.size(), prefix) != 0) return;
    const std::string key = a.subject.substr(prefix.size());
    auto it = subjects_.find(key);
    if (it == subjects_.end()) {
      if (subjects_.size() >= max_keys_) return void(++dropped_);
      it = subjects_.emplace(key, Subject{SlidingWindow<Slot>(rule_.window), {}}).first;
    }
    it->second.latch.firing = true;
    it->second.latch.last_hit = std::max(it->second.latch.last_hit, a.fired_at);
  }

  void tick(UnixNanos now, std::vector<AlertEvent>& out) override {
    for (auto it = subjects_.begin(); it != subjects_.end();) {
      it->second.window.advance(now);
      check(it->first, it->second, now, out);
      if (!it->second.latch.firing && empty(it->second.window)) it = subjects_.erase(it);
      else ++it;
    }
  }
  std::uint64_t keys_dropped() const override { return dropped_; }

 protected:
  // Calls F(key, add) for each sample of the trace; add(slot) puts the sample in a slot.
  virtual void each_sample(const TraceFacts& t, const std::function<void(const std::string&, std::function<void(Slot&)>)>& f) = 0;
  // The measured value when the window holds enough to judge (min_calls), else nullopt.
  virtual std::optional<double> measure(const SlidingWindow<Slot>& w) const = 0;
  virtual std::string subject(const std::string& key) const = 0;
  virtual std::string describe(double value) const = 0;
  virtual double threshold() const = 0;
  virtual bool empty(const SlidingWindow<Slot>& w) const = 0;

 private:
  struct Subject {
    SlidingWindow<Slot> window;
    Latch latch;
  };
  bool check(const std::string& key, Subject& s, UnixNanos now, std::vector<AlertEvent>& out) {
    const std::optional<double> v = measure(s.window);
    const bool over = v && *v > threshold();
    // A firing taken over from before a restart is not judged on too little data within its window.
    if (!v && s.latch.firing && now - s.latch.last_hit < rule_.window) return false;
    if (over && !s.latch.firing) {
      s.latch.firing = true;
      emit(out, event(AlertEvent::State::kFired, subject(key), now, *v, threshold()), describe(*v));
    } else if (!over && s.latch.firing) {
      s.latch.firing = false;
      emit(out, event(AlertEvent::State::kRecovered, subject(key), now, v.value_or(0), threshold()),
           v ? describe(*v) : fmt::format("fewer than {} calls in the last {}", rule_.min_calls, duration_text(rule_.window)));
    }
    return over;
  }
  const std::size_t max_keys_;
  std::unordered_map<std::string, Subject> subjects_;
  std::vector<std::string> touched_;
  std::uint64_t dropped_ = 0;
};

struct CallsFailures {
  std::int64_t calls = 0, failures = 0;
};

class ToolFailureCheck final : public KeyedWindowCheck<CallsFailures> {
 public:
  using KeyedWindowCheck::KeyedWindowCheck;

 protected:
  void each_sample(const TraceFacts& t,
                   const std::function<void(const std::string&, std::function<void(CallsFailures&)>)>& f) override {
    for (const auto& tool : t.tools)
      f(tool.name.empty() ? "-" : tool.name, [&](CallsFailures& s) {
        ++s.calls;
        s.failures += tool.failed ? 1 : 0;
      });
  }
  std::optional<double> measure(const SlidingWindow<CallsFailures>& w) const override {
    CallsFailures sum = totals(w);
    if (sum.calls < rule_.min_calls) return std::nullopt;
    return static_cast<double>(sum.failures) / static_cast<double>(sum.calls);
  }
  bool empty(const SlidingWindow<CallsFailures>& w) const override { return totals(w).calls == 0; }
  std::string subject(const std::string& key) const override { return "tool " + key; }
  double threshold() const override { return rule_.max_rate; }
  std::string describe(double v) const override {
    return fmt::format("failed {:.1f}% of calls in the last {} (limit {:.1f}%)", v * 100, duration_text(rule_.window),
                       rule_.max_rate * 100);
  }

 private:
  static CallsFailures totals(const SlidingWindow<CallsFailures>& w) {
    CallsFailures sum;
    w.for_each([&](const CallsFailures& s) { sum.calls += s.calls, sum.failures += s.failures; });
    return sum;
  }
};

class AgentLatencyCheck final : public KeyedWindowCheck<LatencySketch> {
 public:
  using KeyedWindowCheck::KeyedWindowCheck;

 protected:
  void each_sample(const TraceFacts& t,
                   const std::function<void(const std::string&, std::function<void(LatencySketch&)>)>& f) override {
    for (const auto& g : t.generations) f(g.agent.empty() ? "-" : g.agent, [&](LatencySketch& s) { s.add(g.seconds); });
  }
  std::optional<double> measure(const SlidingWindow<LatencySketch>& w) const override {
    LatencySketch all;
    w.for_each([&](const LatencySketch& s) { all.merge(s); });
    if (all.count() < static_cast<std::uint64_t>(rule_.min_calls)) return std::nullopt;
    return all.quantile(0.95);
  }
  bool empty(const SlidingWindow<LatencySketch>& w) const override {
    std::uint64_t n = 0;
    w.for_each([&](const LatencySketch& s) { n += s.count(); });
    return n == 0;
  }
  std::string subject(const std::string& key) const override { return "agent " + key; }
  double threshold() const override { return rule_.max_seconds; }
  std::string describe(double v) const override {
    return fmt::format("p95 model-call latency {:.2f}s in the last {} (limit {:.2f}s)", v, duration_text(rule_.window),
                       rule_.max_seconds);
  }
};

}  // namespace

std::unique_ptr<RuleCheck> make_rule_check(const Rule& rule, std::size_t max_keys, BudgetBook* book) {
  switch (rule.kind) {
    case RuleKind::kTraceCost:
    case RuleKind::kLoop: return std::make_unique<TraceConditionCheck>(rule);
    case RuleKind::kSpend: return std::make_unique<RollingSpendCheck>(rule);
    case RuleKind::kUserBudget:
    case RuleKind::kSessionBudget: return std::make_unique<BudgetCheck>(rule, max_keys, book);
    case RuleKind::kToolFailureRate: return std::make_unique<ToolFailureCheck>(rule, max_keys);
    case RuleKind::kAgentLatency: return std::make_unique<AgentLatencyCheck>(rule, max_keys);
  }
  return nullptr;
}

}  // namespace llmtap::alerts
