#include "ui/dashboard_api.h"

#include <algorithm>
#include <functional>
#include <iterator>
#include <limits>
#include <map>

#include "export/sqlite_store.h"
#include "report/report.h"
#include "report/window_aggregates.h"
#include "ui/api_query.h"

namespace llmtap::ui {
namespace {

using nlohmann::json;
using report::GroupBy;
using report::Report;
using report::ReportBuilder;
using report::ReportOptions;

constexpr std::size_t kMaxWorkflows = 100;  // more are summed up as "(other)"
constexpr std::int64_t kMaxBuckets = 1000;
constexpr std::int64_t kSecond = 1'000'000'000;

// The report's window: the selection's, an open end read as "now".
ReportOptions options_for(const PreparedQuery& q, const ApiContext& ctx, GroupBy by) {
  ReportOptions o;
  o.since = q.query.selection.since;
  o.until = q.query.selection.until == std::numeric_limits<UnixNanos>::max() ? std::max(ctx.now, o.since + 1)
                                                                             : q.query.selection.until;
  o.by = by;
  return o;
}

// Fills BUILDERS from the matching traces; "" or the store's error.
std::string feed(const PreparedQuery& q, const std::vector<ReportBuilder*>& builders,
                 const std::function<void(const Trace&, const report::TraceOverview&)>& also = {}) {
  return for_each_matching(q, [&](const Trace& t, const report::TraceOverview& o) {
    for (auto* b : builders) b->add(t);
    if (also) also(t, o);
    return true;
  });
}

// The dashboards answer from the store's aggregates (report/window_aggregates.h) when only a window
// narrows the traces; any other filter takes the pass over every matching trace.
std::optional<report::WindowAggregates> window_aggregates(const PreparedQuery& q, std::string* error) {
  const auto& sel = q.query.selection;
  const auto& f = q.query.filter;
  if (!q.source || !sel.workflow.empty() || !sel.agent.empty() || !sel.trace_ids.empty() || !f.model.empty() ||
      !f.user.empty() || !f.session.empty() || f.errors != report::TraceFilter::Errors::kAny || f.min_cost || f.max_cost)
    return std::nullopt;
  return report::WindowAggregates::read(*q.source, sel.since, sel.until, error);
}

std::optional<int> report_int(const ApiContext& ctx, const char* key, int fallback, std::string* error) {
  auto v = ctx.params.integer(key, fallback, 1, 1'000'000, error);
  return v ? std::optional<int>(static_cast<int>(*v)) : std::nullopt;
}

// What a dashboard says about runs: success, duration, calls per run.
json runs_json(const Report& r) {
  json full = report_json(r);
  return {{"traces", r.traces},
          {"failed_traces", r.failed_traces},
          {"success_rate", full["runs"]["success_rate"]},
          {"duration_ms", full["runs"]["duration_ms"]},
          {"model_calls", full["totals"]},
          {"model_calls_per_run", full["runs"]["model_calls"]},
          {"tool_calls_per_run", full["runs"]["tool_calls"]},
          {"loop_runs", r.loop_runs},
          {"handoff_rate", full["handoffs"]["rate"]},
          {"cost_usd", full["totals"]["cost_usd"]}};
}

// Seconds per bucket: BUCKET_PARAM, or for "auto" the smallest step giving at most 60 buckets.
std::int64_t auto_bucket(UnixNanos first, UnixNanos last) {
  static constexpr std::int64_t kSteps[] = {60, 300, 900, 3600, 3 * 3600, 6 * 3600, 86400, 7 * 86400, 30 * 86400};
  for (auto s : kSteps)
    if ((last - first) / (s * kSecond) < 60) return s;
  return 365 * 86400;
}

}  // namespace

ApiResult report_endpoint(const ApiContext& ctx) {
  ApiResult result;
  auto q = prepare_query(ctx, {"by", "top", "loop_repeats", "loop_model_calls"}, &result);
  if (!q) return result;
  std::string by_name = ctx.params.has("by") ? ctx.params.text("by") : "agent";
  auto by = report::parse_group_by(by_name);
  if (!by) return api_error(400, "by wants one of " + std::string(report::kGroupByNames) + ", not '" + by_name + "'");
  ReportOptions o = options_for(*q, ctx, *by);
  std::string error;
  auto top = report_int(ctx, "top", o.top, &error);
  auto repeats = top ? report_int(ctx, "loop_repeats", o.loop_repeats, &error) : std::nullopt;
  auto model_calls = repeats ? report_int(ctx, "loop_model_calls", o.loop_model_calls, &error) : std::nullopt;
  if (!model_calls) return api_error(400, error);
  o.top = *top, o.loop_repeats = *repeats, o.loop_model_calls = *model_calls;
  ReportBuilder builder(o);
  if (std::string e = feed(*q, {&builder}); !e.empty()) return api_error(500, e);
  json out = report_json(builder.finish());
  out["store"] = q->store;
  return {200, out};
}

ApiResult health_dashboard(const ApiContext& ctx) {
  ApiResult result;
  auto q = prepare_query(ctx, {}, &result);
  if (!q) return result;
  std::string e;
  json rows = json::array();
  json total_json;
  auto w = window_aggregates(*q, &e);
  if (!e.empty()) return api_error(500, e);
  if (w && w->workflows().size() <= kMaxWorkflows) {
    ReportOptions o = options_for(*q, ctx, GroupBy::kWorkflow);
    o.top = 0;
    auto total = w->report(o, false, &e);
    if (!total) return api_error(500, e);
    total_json = runs_json(*total);
    for (const std::string& name : w->workflows()) {
      auto r = w->report(o, false, &e, &name);
      if (!r) return api_error(500, e);
      json row = runs_json(*r);
      row["workflow"] = name;
      rows.push_back(std::move(row));
    }
  } else {
    ReportBuilder total(options_for(*q, ctx, GroupBy::kWorkflow));
    std::map<std::string, std::unique_ptr<ReportBuilder>> per_workflow;
    e = feed(*q, {&total}, [&](const Trace& t, const report::TraceOverview& o) {
      std::string key = o.workflow.empty() ? "-" : o.workflow;
      auto it = per_workflow.find(key);
      if (it == per_workflow.end()) {
        if (per_workflow.size() >= kMaxWorkflows) key = "(other)";
        it = per_workflow.find(key);
        if (it == per_workflow.end())
          it = per_workflow.emplace(key, std::make_unique<ReportBuilder>(options_for(*q, ctx, GroupBy::kWorkflow))).first;
      }
      it->second->add(t);
    });
    if (!e.empty()) return api_error(500, e);
    total_json = runs_json(total.finish());
    for (auto& [name, builder] : per_workflow) {
      json row = runs_json(builder->finish());
      row["workflow"] = name;
      rows.push_back(std::move(row));
    }
  }
  std::stable_sort(rows.begin(), rows.end(), [](const json& a, const json& b) { return a["traces"] > b["traces"]; });
  return {200, {{"total", total_json}, {"workflows", rows}, {"store", q->store}}};
}

ApiResult tools_dashboard(const ApiContext& ctx) {
  ApiResult result;
  auto q = prepare_query(ctx, {}, &result);
  if (!q) return result;
  std::string e;
  auto w = window_aggregates(*q, &e);
  if (!e.empty()) return api_error(500, e);
  ReportOptions o = options_for(*q, ctx, GroupBy::kTool);
  o.top = 0;
  std::optional<Report> from_aggregates = w ? w->report(o, true, &e) : std::nullopt;
  if (!e.empty()) return api_error(500, e);
  ReportBuilder builder(o);
  if (!from_aggregates)
    if (e = feed(*q, {&builder}); !e.empty()) return api_error(500, e);
  Report r = from_aggregates ? std::move(*from_aggregates) : builder.finish();
  json full = report_json(r);
  std::int64_t calls = 0, failures = 0;
  for (const auto& t : r.tools) calls += t.calls, failures += t.failures;
  return {200,
          {{"traces", r.traces},
           {"tool_calls", calls},
           {"tool_failures", failures},
           {"failure_rate", calls ? static_cast<double>(failures) / static_cast<double>(calls) : 0.0},
           {"tools", full["tools"]},
           {"tool_calls_per_run", full["runs"]["tool_calls"]},
           {"loops", full["runs"]["loops"]},
           {"store", q->store}}};
}

ApiResult cost_dashboard(const ApiContext& ctx) {
  ApiResult result;
  auto q = prepare_query(ctx, {"bucket", "top"}, &result);
  if (!q) return result;
  std::string error;
  std::int64_t bucket = 0;  // seconds; 0: auto
  if (ctx.params.has("bucket") && ctx.params.text("bucket") != "auto") {
    auto b = ctx.params.integer("bucket", 0, 60, 366 * 86400, &error);
    if (!b) return api_error(400, "bucket wants auto or a number of seconds: " + error);
    bucket = *b;
  }
  auto top = report_int(ctx, "top", 10, &error);
  if (!top) return api_error(400, error);
  ReportOptions o = options_for(*q, ctx, GroupBy::kWorkflow);
  o.top = *top;
  constexpr GroupBy kBy[] = {GroupBy::kWorkflow, GroupBy::kAgent, GroupBy::kModel, GroupBy::kUser};
  std::vector<Report> reports;
  // Cost and traces per bucket, FILL adding every trace (or hour) to SUM(start).
  std::optional<std::pair<UnixNanos, UnixNanos>> range;  // first and last trace start
  std::function<void(UnixNanos step, const std::function<void(UnixNanos, double, std::int64_t)>& sum)> fill;
  std::string e;
  auto w = window_aggregates(*q, &e);
  if (!e.empty()) return api_error(500, e);
  if (w) {
    for (std::size_t i = 0; i < std::size(kBy); ++i) {
      o.by = kBy[i];
      ReportOptions oi = o;
      if (i > 0) oi.top = 0;  // the top traces come from the first
      auto r = w->report(oi, false, &e);
      if (!r) return api_error(500, e);
      reports.push_back(std::move(*r));
    }
    sqlite3* db = q->source->reader().connection();
    const auto& sel = q->query.selection;
    if (e = exporting::start_range(db, sel.since, sel.until, &range); !e.empty()) return api_error(500, e);
    fill = [&, db, since = sel.since, until = sel.until](UnixNanos step,
                                                        const std::function<void(UnixNanos, double, std::int64_t)>& sum) {
      if (step % exporting::kAggregateHourNs == 0) {  // whole hours: from the aggregates
        for (const auto& [hour, cost] : w->cost_per_hour()) sum(hour * exporting::kAggregateHourNs, cost.first, cost.second);
      } else {  // finer: each trace's start and cost from the trace_stats index
        e = exporting::trace_costs(db, since, until, [&](UnixNanos start, double cost) { sum(start, cost, 1); });
      }
    };
  } else {
    std::vector<std::unique_ptr<ReportBuilder>> builders;
    std::vector<ReportBuilder*> raw;
    for (auto by : kBy) {
      o.by = by;
      builders.push_back(std::make_unique<ReportBuilder>(o));
      raw.push_back(builders.back().get());
    }
    struct Point {
      UnixNanos start;
      double cost;
    };
    std::vector<Point> points;
    e = feed(*q, raw, [&](const Trace&, const report::TraceOverview& o) {
      points.push_back({o.start_ns, o.cost_usd.value_or(0)});
    });
    if (!e.empty()) return api_error(500, e);
    for (auto& b : builders) reports.push_back(b->finish());
    if (!points.empty()) {
      auto [lo, hi] = std::minmax_element(points.begin(), points.end(),
                                          [](const Point& a, const Point& b) { return a.start < b.start; });
      range = std::pair<UnixNanos, UnixNanos>(lo->start, hi->start);
    }
    fill = [&](UnixNanos, const std::function<void(UnixNanos, double, std::int64_t)>& sum) {
      for (const auto& p : points) sum(p.start, p.cost, 1);
    };
  }

  json over_time = json::array();
  if (range) {
    const auto [lo, hi] = *range;
    if (bucket == 0) bucket = auto_bucket(lo, hi);
    const UnixNanos step = bucket * kSecond;
    const UnixNanos first = lo - lo % step;
    const std::int64_t n = (hi - first) / step + 1;
    if (n > kMaxBuckets)
      return api_error(400, "bucket " + std::to_string(bucket) + "s makes " + std::to_string(n) +
                                " buckets over these traces (at most " + std::to_string(kMaxBuckets) + ")");
    std::vector<std::pair<double, std::int64_t>> sums(static_cast<std::size_t>(n));
    fill(step, [&](UnixNanos start, double cost, std::int64_t traces) {
      auto& s = sums[static_cast<std::size_t>((start - first) / step)];
      s.first += cost;
      s.second += traces;
    });
    if (!e.empty()) return api_error(500, e);
    for (std::int64_t i = 0; i < n; ++i)
      over_time.push_back({{"start_unix_nano", first + i * step},
                           {"cost_usd", sums[static_cast<std::size_t>(i)].first},
                           {"traces", sums[static_cast<std::size_t>(i)].second}});
  }
  json out = {{"over_time", {{"bucket_seconds", bucket}, {"buckets", over_time}}}, {"store", q->store}};
  static constexpr const char* kKeys[] = {"by_workflow", "by_agent", "by_model", "by_user"};
  for (std::size_t i = 0; i < reports.size(); ++i) {
    json full = report_json(reports[i]);
    if (i == 0) {
      out["traces"] = full["traces"];
      out["totals"] = full["totals"];
      out["trace_cost"] = full["trace_cost"];
    }
    out[kKeys[i]] = full["groups"];
  }
  return {200, out};
}

}  // namespace llmtap::ui
