// Text, JSON and CSV views of a Report.
#include <cstdio>

#include "export/traces_query.h"
#include "export/tree_renderer.h"
#include "report/report.h"
#include "report/text_table.h"

namespace llmtap::report {
namespace {

using exporting::TreeRenderer;

std::string local_time(UnixNanos ns) { return exporting::format_time(ns); }
std::string utc_time(UnixNanos ns) { return exporting::format_time(ns, true); }

std::string dur(double ms) { return TreeRenderer::format_duration(static_cast<UnixNanos>(ms * 1e6 + 0.5)); }
std::string cost(double usd) { return TreeRenderer::format_cost(usd); }
std::string cost_or_dash(const CallGroup& g) { return g.priced_calls ? cost(g.cost_usd) : "-"; }

std::string percent(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", fraction * 100.0);
  return buf;
}

std::string num(double v) {
  char buf[32];
  if (v == static_cast<double>(static_cast<std::int64_t>(v))) std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v));
  else std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string share(const Report& r, const CallGroup& g) {
  return r.total.cost_usd > 0 && g.priced_calls ? percent(g.cost_usd / r.total.cost_usd) : "-";
}

std::vector<std::string> call_row(const Report& r, const CallGroup& g) {
  return {g.key,
          std::to_string(g.calls),
          std::to_string(g.errors),
          percent(g.error_rate()),
          dur(g.duration_ms.p50),
          dur(g.duration_ms.p95),
          dur(g.duration_ms.p99),
          std::to_string(g.input_tokens),
          std::to_string(g.cached_tokens),
          std::to_string(g.output_tokens),
          std::to_string(g.reasoning_tokens),
          cost_or_dash(g),
          share(r, g),
          std::to_string(g.unpriced_calls)};
}

std::vector<std::string> call_header(const Report& r) {
  std::string key(to_string(r.options.by));
  for (auto& c : key) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return {key, "CALLS", "ERRORS", "ERR%", "P50", "P95", "P99", "INPUT", "CACHED", "OUTPUT", "REASONING",
          "COST", "SHARE", "UNPRICED"};
}

std::vector<std::string> tool_row(const ToolGroup& t) {
  return {t.name, std::to_string(t.calls), std::to_string(t.failures), percent(t.failure_rate()),
          dur(t.latency_ms.avg), dur(t.latency_ms.p95), cost(t.requesting_cost_usd)};
}
const std::vector<std::string> kToolHeader = {"TOOL", "CALLS", "FAILED", "FAIL%", "AVG", "P95", "REQUESTING COST"};

nlohmann::json quantiles_json(const Quantiles& q, bool with_max) {
  nlohmann::json j = {{"p50", q.p50}, {"p95", q.p95}, {"p99", q.p99}};
  if (with_max) j["max"] = q.max, j["avg"] = q.avg;
  return j;
}

nlohmann::json call_json(const Report& r, const CallGroup& g) {
  return {{"key", g.key},
          {"calls", g.calls},
          {"errors", g.errors},
          {"error_rate", g.error_rate()},
          {"duration_ms", quantiles_json(g.duration_ms, false)},
          {"tokens",
           {{"input", g.input_tokens}, {"cached", g.cached_tokens}, {"output", g.output_tokens},
            {"reasoning", g.reasoning_tokens}}},
          {"cost_usd", g.priced_calls ? nlohmann::json(g.cost_usd) : nlohmann::json(nullptr)},
          {"cost_share", r.total.cost_usd > 0 && g.priced_calls ? nlohmann::json(g.cost_usd / r.total.cost_usd)
                                                                : nlohmann::json(nullptr)},
          {"priced_calls", g.priced_calls},
          {"unpriced_calls", g.unpriced_calls}};
}

nlohmann::json trace_json(const TraceRow& t) {
  return {{"trace_id", t.trace_id},
          {"workflow", t.workflow},
          {"start_time_unix_nano", t.start_ns},
          {"duration_ms", t.duration_ms},
          {"cost_usd", t.cost_usd ? nlohmann::json(*t.cost_usd) : nlohmann::json(nullptr)},
          {"model_calls", t.model_calls},
          {"tool_calls", t.tool_calls}};
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string csv_line(const std::vector<std::string>& cells) {
  std::string line;
  for (std::size_t i = 0; i < cells.size(); ++i) line += (i ? "," : "") + csv_field(cells[i]);
  return line + "\r\n";
}

std::string csv_num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

}  // namespace

std::string format_report_text(const Report& r) {
  const auto& o = r.options;
  std::string out = "llmtap report " + local_time(o.since) + " → " + local_time(o.until) + ": " +
                    std::to_string(r.traces) + " traces, " + std::to_string(r.spans) + " spans\n";
  if (r.traces == 0) return out + "no traces recorded in this window\n";

  const CallGroup& t = r.total;
  out += "\nModel calls: " + std::to_string(t.calls) + ", errors " + std::to_string(t.errors) + " (" +
         percent(t.error_rate()) + "), p50 " + dur(t.duration_ms.p50) + " p95 " + dur(t.duration_ms.p95) +
         " p99 " + dur(t.duration_ms.p99) + "; cost " + cost_or_dash(t) +
         (t.unpriced_calls ? " (+" + std::to_string(t.unpriced_calls) + " unpriced)" : "") + "\n";
  if (o.by != GroupBy::kTool) {
    TextTable table(call_header(r), {false, true, true, true, true, true, true, true, true, true, true, true, true, true});
    for (const auto& g : r.groups) table.add(call_row(r, g));
    table.add(call_row(r, t));
    out += "\nBy " + std::string(to_string(o.by)) + "\n" + table.render("  ");
  }

  out += "\nTools";
  if (r.tools.empty()) {
    out += ": none called\n";
  } else {
    out += " (requesting cost: the cost of the model call that asked for them, split over its tool calls)\n";
    TextTable table(kToolHeader, {false, true, true, true, true, true, true});
    for (const auto& tool : r.tools) table.add(tool_row(tool));
    out += table.render("  ");
  }

  out += "\nHandoffs: " + std::to_string(r.traces_with_handoff) + " of " + std::to_string(r.traces) +
         " traces (" + percent(static_cast<double>(r.traces_with_handoff) / static_cast<double>(r.traces)) + ")\n";
  if (!r.handoff_paths.empty()) {
    TextTable table({"FROM", "", "TO", "COUNT", "COMPLETED"}, {false, false, false, true, true});
    for (const auto& p : r.handoff_paths)
      table.add({p.from, "→", p.to, std::to_string(p.count), std::to_string(p.completed)});
    out += table.render("  ");
  }

  out += "\nCost per trace: ";
  if (r.priced_traces)
    out += "p50 " + cost(r.trace_cost_usd.p50) + ", p95 " + cost(r.trace_cost_usd.p95) + ", max " +
           cost(r.trace_cost_usd.max) + " over " + std::to_string(r.priced_traces) + " priced traces";
  else
    out += "no priced traces";
  if (r.unpriced_traces) out += " (" + std::to_string(r.unpriced_traces) + " without a priced call)";
  out += "\n";
  if (!r.top_traces.empty()) {
    out += "Most expensive traces\n";
    TextTable table({"TRACE ID", "START", "WORKFLOW", "DURATION", "COST", "MODEL CALLS", "TOOL CALLS"},
                    {false, false, false, true, true, true, true});
    for (const auto& tr : r.top_traces)
      table.add({tr.trace_id, local_time(tr.start_ns), tr.workflow, dur(tr.duration_ms), cost(*tr.cost_usd),
                 std::to_string(tr.model_calls), std::to_string(tr.tool_calls)});
    out += table.render("  ");
  }

  const auto& m = r.model_calls_per_run;
  const auto& tc = r.tool_calls_per_run;
  out += "\nPer run: model calls avg " + num(m.avg) + ", p50 " + num(m.p50) + ", p95 " + num(m.p95) + ", max " +
         num(m.max) + "; tool calls avg " + num(tc.avg) + ", p50 " + num(tc.p50) + ", p95 " + num(tc.p95) +
         ", max " + num(tc.max) + "\n";
  out += "Possible loops (one tool " + std::to_string(o.loop_repeats) + "+ times with the same arguments, or more than " +
         std::to_string(o.loop_model_calls) + " model calls): " + std::to_string(r.loop_runs) + "\n";
  if (!r.loops.empty()) {
    TextTable table({"TRACE ID", "WORKFLOW", "MODEL CALLS", "TOOL CALLS", "WHY"}, {false, false, true, true, false});
    for (std::size_t i = 0; i < r.loops.size() && i < static_cast<std::size_t>(std::max(o.top, 1)); ++i) {
      const auto& l = r.loops[i];
      table.add({l.trace.trace_id, l.trace.workflow, std::to_string(l.trace.model_calls),
                 std::to_string(l.trace.tool_calls), l.reason});
    }
    out += table.render("  ", 60);
  }
  if (r.tool_arguments_missing)
    out += "(tool arguments are recorded only with OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true;\n"
           " without them repeated calls are compared by tool name)\n";
  return out;
}

nlohmann::json report_json(const Report& r) {
  const auto& o = r.options;
  nlohmann::json groups = nlohmann::json::array(), tools = nlohmann::json::array(), paths = nlohmann::json::array(),
                 top = nlohmann::json::array(), loops = nlohmann::json::array();
  for (const auto& g : r.groups) groups.push_back(call_json(r, g));
  for (const auto& t : r.tools)
    tools.push_back({{"tool", t.name},
                     {"calls", t.calls},
                     {"failures", t.failures},
                     {"failure_rate", t.failure_rate()},
                     {"unanswered", t.unanswered},
                     {"latency_ms", {{"avg", t.latency_ms.avg}, {"p95", t.latency_ms.p95}}},
                     {"requesting_cost_usd", t.requesting_cost_usd}});
  for (const auto& p : r.handoff_paths)
    paths.push_back({{"from", p.from}, {"to", p.to}, {"count", p.count}, {"completed", p.completed}});
  for (const auto& t : r.top_traces) top.push_back(trace_json(t));
  for (const auto& l : r.loops) {
    auto j = trace_json(l.trace);
    j["reason"] = l.reason;
    loops.push_back(std::move(j));
  }
  return {{"window",
           {{"since", utc_time(o.since)},
            {"until", utc_time(o.until)},
            {"since_unix_nano", o.since},
            {"until_unix_nano", o.until}}},
          {"group_by", std::string(to_string(o.by))},
          {"traces", r.traces},
          {"spans", r.spans},
          {"totals", call_json(r, r.total)},
          {"groups", groups},
          {"tools", tools},
          {"handoffs",
           {{"traces_with_handoff", r.traces_with_handoff},
            {"rate", r.traces ? static_cast<double>(r.traces_with_handoff) / static_cast<double>(r.traces) : 0.0},
            {"paths", paths}}},
          {"trace_cost",
           {{"priced_traces", r.priced_traces},
            {"unpriced_traces", r.unpriced_traces},
            {"usd", {{"p50", r.trace_cost_usd.p50}, {"p95", r.trace_cost_usd.p95}, {"max", r.trace_cost_usd.max}}},
            {"top", top}}},
          {"runs",
           {{"failed", r.failed_traces},
            {"success_rate", r.traces ? 1.0 - static_cast<double>(r.failed_traces) / static_cast<double>(r.traces) : 0.0},
            {"duration_ms", quantiles_json(r.trace_duration_ms, true)},
            {"model_calls", quantiles_json(r.model_calls_per_run, true)},
            {"tool_calls", quantiles_json(r.tool_calls_per_run, true)},
            {"loops",
             {{"count", r.loop_runs},
              {"same_tool_repeats", o.loop_repeats},
              {"max_model_calls", o.loop_model_calls},
              {"tool_arguments_recorded", !r.tool_arguments_missing},
              {"runs", loops}}}}}};
}

std::string report_csv(const Report& r) {
  std::string out;
  if (r.options.by == GroupBy::kTool) {
    out += csv_line({"tool", "calls", "failures", "failure_rate", "avg_ms", "p95_ms", "requesting_cost_usd"});
    for (const auto& t : r.tools)
      out += csv_line({t.name, std::to_string(t.calls), std::to_string(t.failures), csv_num(t.failure_rate()),
                       csv_num(t.latency_ms.avg), csv_num(t.latency_ms.p95), csv_num(t.requesting_cost_usd)});
    return out;
  }
  out += csv_line({std::string(to_string(r.options.by)), "calls", "errors", "error_rate", "p50_ms", "p95_ms", "p99_ms",
                   "input_tokens", "cached_tokens", "output_tokens", "reasoning_tokens", "cost_usd", "cost_share",
                   "unpriced_calls"});
  auto line = [&](const CallGroup& g) {
    out += csv_line({g.key, std::to_string(g.calls), std::to_string(g.errors), csv_num(g.error_rate()),
                     csv_num(g.duration_ms.p50), csv_num(g.duration_ms.p95), csv_num(g.duration_ms.p99),
                     std::to_string(g.input_tokens), std::to_string(g.cached_tokens), std::to_string(g.output_tokens),
                     std::to_string(g.reasoning_tokens), g.priced_calls ? csv_num(g.cost_usd) : "",
                     r.total.cost_usd > 0 && g.priced_calls ? csv_num(g.cost_usd / r.total.cost_usd) : "",
                     std::to_string(g.unpriced_calls)});
  };
  for (const auto& g : r.groups) line(g);
  line(r.total);
  return out;
}

}  // namespace llmtap::report
