#pragma once
// Alerting wired into the running pipeline: the evaluator behind one lock, fed by two decorators
// that sit where calls arrive (between the capture worker and the trace builder) and where traces
// close (between the builder and the exporters), and by tick(). Both run off the forwarding path;
// what the proxy reads (--enforce-budgets) is the BudgetBook, kept up to date here.
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "alerts/alert_actions.h"
#include "alerts/budget_book.h"
#include "alerts/evaluator.h"
#include "common/sinks.h"
#include "pricing/cost.h"

namespace llmtap::alerts {

// How a call's user id becomes the one its trace records (trace/attribution_attrs.h).
struct UserIdPolicy {
  bool raw = false;
  std::string salt;  // for hash_user_id when not raw
  std::string apply(const std::string& raw_id) const;
};

class Alerting {
 public:
  // Parses nothing: RULES are loaded; STORE_PATH "" for no store rows. nullptr and *error when the
  // actions cannot start.
  static std::unique_ptr<Alerting> create(const RuleSet& rules, const std::string& store_path, std::string* error);

  void on_call(const CallObservation& call);
  // Evaluates TRACE; returns the rule names it set off.
  std::vector<std::string> on_trace(const Trace& trace, UnixNanos now);
  void tick(UnixNanos now);
  const BudgetBook& budgets() const { return book_; }
  // The kind of rule NAME ("" if there is none).
  std::string kind_of(const std::string& rule) const {
    auto it = kinds_.find(rule);
    return it == kinds_.end() ? "" : it->second;
  }
  AlertActionStats action_stats() const { return actions_->stats(); }

 private:
  Alerting(const RuleSet& rules) : evaluator_(rules, &book_) {}
  void dispatch(std::vector<AlertEvent>& events);
  void warm(const std::string& store_path);
  BudgetBook book_;
  std::mutex mu_;  // evaluator_ (sans-IO, one caller at a time)
  AlertEvaluator evaluator_;
  std::unique_ptr<AlertActions> actions_;
  std::uint64_t dropped_reported_ = 0;
  std::map<std::string, std::string> kinds_;  // rule name -> kind
};

// Trace close: evaluates, then forwards the trace to NEXT, with `llmtap.alerts` (the rules it set
// off) on its root span and an `llmtap.alert` event per rule on it, when it set any off.
class AlertingTraceSink final : public TraceSink {
 public:
  AlertingTraceSink(Alerting& alerting, TraceSink& next) : alerting_(alerting), next_(next) {}
  void on_trace(const Trace& trace) override;
  void take_trace(Trace&& trace) override;  // marked in place, handed on without a copy
  void flush() override { next_.flush(); }
  void stop_by(std::chrono::steady_clock::time_point deadline) override { next_.stop_by(deadline); }

 private:
  void mark(Trace& trace, std::vector<std::string> hit) const;
  Alerting& alerting_;
  TraceSink& next_;
};

// Call arrival: prices the call the way the trace will, observes it, hands it on unchanged.
class AlertingCallSink final : public ModelCallSink {
 public:
  AlertingCallSink(Alerting& alerting, const Pricer& pricer, UserIdPolicy users, ModelCallSink& next)
      : alerting_(alerting), pricer_(pricer), users_(std::move(users)), next_(next) {}
  void on_model_call(ModelCall call) override;

 private:
  Alerting& alerting_;
  const Pricer& pricer_;
  UserIdPolicy users_;
  ModelCallSink& next_;
};

}  // namespace llmtap::alerts
