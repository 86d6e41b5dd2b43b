#include "export/tree_renderer.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <set>

#include "common/terminal_text.h"
#include "export/span_json.h"

namespace llmtap::exporting {
namespace {

std::string str_attr(const Span& s, std::string_view key) {
  if (const auto* v = s.find(key))
    if (const auto* str = std::get_if<std::string>(v)) return *str;
  return {};
}

std::optional<double> own_cost(const Span& s) {
  if (const auto* v = s.find("llm.cost.total")) {
    if (const auto* d = std::get_if<double>(v)) return *d;
    if (const auto* i = std::get_if<std::int64_t>(v)) return static_cast<double>(*i);
  }
  return std::nullopt;
}

// Span name without its operation prefix ("execute_tool lookup" -> "lookup").
std::string name_after_operation(const Span& s) {
  auto sp = s.name.find(' ');
  return sp == std::string::npos ? s.name : s.name.substr(sp + 1);
}

std::string one_line(std::string s, std::size_t max) {
  for (auto& c : s)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  if (s.size() > max) {
    s.resize(max);
    while (!s.empty() && (static_cast<unsigned char>(s.back()) & 0xC0) == 0x80) s.pop_back();  // UTF-8 boundary
    if (!s.empty() && static_cast<unsigned char>(s.back()) >= 0xC0) s.pop_back();
    s += "…";
  }
  return s;
}

// Parent/children index over one trace; roots are spans whose parent is absent from the trace.
struct Tree {
  explicit Tree(const Trace& t) : trace(t) {
    std::map<std::string_view, std::size_t> by_id;
    for (std::size_t i = 0; i < t.spans.size(); ++i) by_id.emplace(t.spans[i].span_id, i);
    children.resize(t.spans.size());
    for (std::size_t i = 0; i < t.spans.size(); ++i) {
      auto it = by_id.find(t.spans[i].parent_span_id);
      if (t.spans[i].parent_span_id.empty() || it == by_id.end() || it->second == i)
        roots.push_back(i);
      else
        children[it->second].push_back(i);
    }
    auto by_start = [&](std::size_t a, std::size_t b) {
      const Span &x = t.spans[a], &y = t.spans[b];
      return std::tie(x.start_ns, a) < std::tie(y.start_ns, b);
    };
    for (auto& c : children) std::sort(c.begin(), c.end(), by_start);
    std::sort(roots.begin(), roots.end(), [&](std::size_t a, std::size_t b) {
      bool wa = t.spans[a].kind == SpanKind::kWorkflow, wb = t.spans[b].kind == SpanKind::kWorkflow;
      if (wa != wb) return wa;
      return by_start(a, b);
    });
    costs.resize(t.spans.size());
    std::vector<bool> seen(t.spans.size());
    for (auto r : roots) rollup(r, seen);
  }

  // Own cost, else (workflow/agent/tool) the sum of priced descendants.
  std::optional<double> rollup(std::size_t i, std::vector<bool>& seen) {
    seen[i] = true;
    std::optional<double> sum;
    for (auto c : children[i]) {
      if (seen[c]) continue;
      if (auto v = rollup(c, seen)) sum = sum.value_or(0) + *v;
    }
    auto own = own_cost(trace.spans[i]);
    costs[i] = own ? own : (trace.spans[i].kind == SpanKind::kGeneration ? std::nullopt : sum);
    return costs[i];
  }

  const Trace& trace;
  std::vector<std::size_t> roots;
  std::vector<std::vector<std::size_t>> children;
  std::vector<std::optional<double>> costs;
};

// Labels and messages come from the wire: terminal_safe keeps them from driving the terminal.
std::string line_for(const Span& s, const std::optional<double>& cost) {
  std::string line = terminal_safe(TreeRenderer::label(s));
  if (s.kind != SpanKind::kHandoff) {
    line += " [" + TreeRenderer::format_duration(s.end_ns - s.start_ns);
    if (cost) line += ", " + TreeRenderer::format_cost(*cost);
    line += "]";
  }
  if (s.error) {
    line += " ✗ error";
    if (!s.status_message.empty()) line += ": " + terminal_safe(one_line(s.status_message, 100));
  }
  return line;
}

}  // namespace

std::string TreeRenderer::label(const Span& s) {
  switch (s.kind) {
    case SpanKind::kWorkflow: {
      auto n = str_attr(s, "gen_ai.workflow.name");
      return "Agent Run: " + (n.empty() ? name_after_operation(s) : n);
    }
    case SpanKind::kAgent: {
      auto n = str_attr(s, "gen_ai.agent.name");
      return "Agent: " + (n.empty() ? name_after_operation(s) : n);
    }
    case SpanKind::kGeneration: {
      auto m = str_attr(s, "gen_ai.response.model");
      if (m.empty()) m = str_attr(s, "gen_ai.request.model");
      return "LLM: " + (m.empty() ? name_after_operation(s) : m);
    }
    case SpanKind::kTool: {
      auto n = str_attr(s, "gen_ai.tool.name");
      return "Tool: " + (n.empty() ? name_after_operation(s) : n);
    }
    case SpanKind::kHandoff: {
      auto to = str_attr(s, "llmtap.handoff.to_agent");
      if (to.empty()) {
        auto arrow = s.name.rfind("-> ");
        to = arrow == std::string::npos ? name_after_operation(s) : s.name.substr(arrow + 3);
      }
      return "Handoff: → " + to;
    }
    case SpanKind::kGuardrail: {
      auto n = str_attr(s, "gen_ai.guardian.name");
      return "Guardrail: " + (n.empty() ? name_after_operation(s) : n);
    }
  }
  return s.name;
}

std::string TreeRenderer::format_duration(UnixNanos d) {
  if (d < 0) d = 0;
  char buf[32];
  double ms = static_cast<double>(d) / 1e6;
  if (ms < 1000) {
    std::snprintf(buf, sizeof buf, "%.0fms", std::floor(ms + 0.5));
  } else {
    double s = ms / 1000;
    std::snprintf(buf, sizeof buf, s < 10 ? "%.2fs" : s < 100 ? "%.1fs" : "%.0fs", s);
  }
  return buf;
}

std::string TreeRenderer::format_cost(double usd) {
  if (!(usd > 0)) return "$0";
  char buf[48];
  if (usd >= 1) {
    std::snprintf(buf, sizeof buf, "$%.2f", usd);
    return buf;
  }
  // Three decimals down to a cent, then two significant digits; trailing zeros trimmed.
  int precision = usd >= 0.01 ? 3 : std::min(12, static_cast<int>(-std::floor(std::log10(usd))) + 1);
  std::snprintf(buf, sizeof buf, "%.*f", precision, usd);
  std::string out = buf;
  while (out.back() == '0') out.pop_back();
  if (out.back() == '.') out.pop_back();
  return "$" + out;
}

std::string TreeRenderer::render_text(const Trace& trace) const {
  Tree tree(trace);
  std::string out;
  std::vector<bool> seen(trace.spans.size());
  std::function<void(std::size_t, const std::string&)> children_of = [&](std::size_t i, const std::string& prefix) {
    const auto& kids = tree.children[i];
    for (std::size_t k = 0; k < kids.size(); ++k) {
      std::size_t c = kids[k];
      if (seen[c]) continue;
      seen[c] = true;
      bool last = k + 1 == kids.size();
      out += prefix + (last ? "└── " : "├── ") + line_for(trace.spans[c], tree.costs[c]) + "\n";
      children_of(c, prefix + (last ? "    " : "│   "));
    }
  };
  for (auto r : tree.roots) {
    seen[r] = true;
    out += line_for(trace.spans[r], tree.costs[r]) + "\n";
    children_of(r, "");
  }
  return out;
}

nlohmann::json TreeRenderer::render_json(const Trace& trace) const {
  Tree tree(trace);
  std::vector<bool> seen(trace.spans.size());
  std::function<nlohmann::json(std::size_t)> node = [&](std::size_t i) {
    seen[i] = true;
    nlohmann::json j = span_to_json(trace.spans[i]);
    j["label"] = label(trace.spans[i]);
    j["cost_usd"] = tree.costs[i] ? nlohmann::json(*tree.costs[i]) : nlohmann::json(nullptr);
    nlohmann::json kids = nlohmann::json::array();
    for (auto c : tree.children[i])
      if (!seen[c]) kids.push_back(node(c));
    j["children"] = std::move(kids);
    return j;
  };
  nlohmann::json roots = nlohmann::json::array();
  for (auto r : tree.roots) roots.push_back(node(r));
  std::string id = trace.trace_id.empty() && !trace.spans.empty() ? trace.spans.front().trace_id : trace.trace_id;
  return {{"trace_id", id}, {"roots", roots}};
}

void ConsoleExporter::on_trace(const Trace& trace) {
  std::string text = renderer_.render_text(trace);
  std::lock_guard lock(mu_);
  std::fputs(text.c_str(), out_);
  std::fflush(out_);
}

void ConsoleExporter::flush() {
  std::lock_guard lock(mu_);
  std::fflush(out_);
}

}  // namespace llmtap::exporting
