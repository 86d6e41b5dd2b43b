#include "trace/span_tree.h"

#include <algorithm>
#include <numeric>

#include "common/ids.h"
#include "trace/attribution_attrs.h"

namespace llmtap::trace {

const CompactString SpanNode::kNoString;

SpanNode& SpanNode::operator=(SpanNode&& o) noexcept {
  if (this == &o) return *this;
  reset_role();
  span = std::move(o.span);
  copy_flags(o);
  if (o.has_usage_) {
    has_usage_ = true;
    agent_.~AgentRef();
    new (&usage_) GenerationUsage(o.usage_);
  } else {
    agent_ = std::move(o.agent_);
  }
  return *this;
}

SpanNode::SpanNode(const SpanNode& o) : SpanNode() {
  span = OpenSpan(o.span);
  copy_flags(o);
  if (o.has_usage_) {
    usage() = o.usage_;
  } else {
    agent_.fp = o.agent_.fp;
    agent_.fallback_name = o.agent_.fallback_name;
    if (o.agent_.handoff) agent_.handoff = std::make_unique<HandoffEnds>(*o.agent_.handoff);
  }
}

void SpanNode::copy_flags(const SpanNode& o) {
  parent = o.parent;
  priced = o.priced;
  counts_as_generation = o.counts_as_generation;
  unpriced = o.unpriced;
  open = o.open;
  dropped = o.dropped;
  fallback_source = o.fallback_source;
}

void SpanNode::reset_role() noexcept {
  // Back to an empty agent reference, what a new node holds.
  if (has_usage_) {
    usage_.~GenerationUsage();
    has_usage_ = false;
    new (&agent_) AgentRef();
  } else {
    agent_ = AgentRef();
  }
}

GenerationUsage& SpanNode::usage() {
  if (!has_usage_) {
    agent_.~AgentRef();
    new (&usage_) GenerationUsage();
    has_usage_ = true;
  }
  return usage_;
}

AgentRef& SpanNode::agent() {
  if (has_usage_) reset_role();
  return agent_;
}

SpanNode make_node(SpanKind kind, UnixNanos start, int parent, const char* openinference) {
  SpanNode n;
  n.parent = parent;
  n.span.kind = kind;
  n.span.span_id = new_span_id();
  n.span.start_ns = start;
  n.span.end_ns = start;
  n.span.set("llmtap.span.kind", std::string(to_string(kind)));
  n.span.set("openinference.span.kind", std::string(openinference));
  return n;
}

int SpanTree::add(SpanNode node) {
  if (add_to_single(node)) return size() - 1;
  node.span.shrink();
  CompactVector<SpanNode>& all = nodes();
  if (all.empty()) all.reserve(3);  // a single call's trace: workflow, agent, generation
  all.push_back(std::move(node));
  return static_cast<int>(all.size()) - 1;
}

int SpanTree::graft(SpanTree&& other, int new_parent) {
  nodes();
  other.nodes();
  // The root (index 0) is left behind, so other's index i lands at i - 1 + size().
  const int offset = size() - 1;
  for (std::size_t i = 1; i < other.nodes_.size(); ++i) {
    SpanNode n = std::move(other.nodes_[i]);
    n.parent = n.parent <= 0 ? new_parent : n.parent + offset;
    nodes_.push_back(std::move(n));
  }
  other.nodes_.clear();
  return offset;
}

namespace {

void set_rollup_attributes(Span& s, const NodeTotals& r) {
  if (r.priced > 0) {
    s.set("llm.cost.total", pico_to_usd(r.cost.total()));
    s.set("llm.cost.prompt", pico_to_usd(r.cost.prompt));
    s.set("llm.cost.completion", pico_to_usd(r.cost.completion));
  }
  if (r.unpriced > 0) s.set("llmtap.cost.unpriced_calls", static_cast<std::int64_t>(r.unpriced));
  s.set("gen_ai.usage.input_tokens", r.input_tokens);
  s.set("gen_ai.usage.output_tokens", r.output_tokens);
}

}  // namespace

Trace SpanTree::finish(const TraceIdentity& id, const AgentNameLookup& known_names,
                       const std::vector<std::pair<int, NodeTotals>>& carried, std::vector<NodeTotals>* totals) {
  nodes();
  const UnixNanos trace_end = latest_time();
  for (auto& n : nodes_) {
    if (n.span.kind != SpanKind::kTool || !n.open) continue;
    n.open = false;
    n.span.end_ns = std::max(n.span.start_ns, trace_end);
    n.span.set("llmtap.tool.unanswered", true);
  }

  // Backward pass: children have higher indices than their parents.
  std::vector<NodeTotals> roll(nodes_.size());
  for (const auto& [i, t] : carried)
    if (i >= 0 && static_cast<std::size_t>(i) < roll.size()) roll[static_cast<std::size_t>(i)] = t;
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    const auto& n = nodes_[i];
    if (!n.counts_as_generation) continue;
    auto& r = roll[i];
    r.input_tokens = n.input_tokens();
    r.output_tokens = n.output_tokens();
    if (n.priced) {
      r.cost = n.cost();
      r.priced = 1;
    }
    r.unpriced = n.unpriced ? 1 : 0;
  }
  // Deepest first, so every child is rolled into its parent before the parent into its own.
  std::vector<int> depth(nodes_.size(), -1);
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    std::vector<std::size_t> path;
    std::size_t j = i;
    while (depth[j] < 0 && nodes_[j].parent >= 0 && path.size() <= nodes_.size()) {
      path.push_back(j);
      j = static_cast<std::size_t>(nodes_[j].parent);
    }
    int d = depth[j] >= 0 ? depth[j] : 0;
    if (depth[j] < 0) depth[j] = 0;
    for (auto it = path.rbegin(); it != path.rend(); ++it) depth[*it] = ++d;
  }
  std::vector<std::size_t> by_depth(nodes_.size());
  std::iota(by_depth.begin(), by_depth.end(), std::size_t{0});
  std::stable_sort(by_depth.begin(), by_depth.end(), [&](std::size_t a, std::size_t b) { return depth[a] > depth[b]; });
  for (std::size_t i : by_depth) {
    if (i == 0) continue;
    const auto& n = nodes_[i];
    if (n.dropped || n.parent < 0) continue;
    auto& p = nodes_[static_cast<std::size_t>(n.parent)];
    if (p.span.kind != SpanKind::kGeneration) {
      if (p.span.start_ns == 0 || (n.span.start_ns != 0 && n.span.start_ns < p.span.start_ns))
        p.span.start_ns = n.span.start_ns;
      p.span.end_ns = std::max(p.span.end_ns, n.span.end_ns);
    }
    roll[static_cast<std::size_t>(n.parent)].add(roll[i]);
  }

  auto known = [&](const std::string& fp) { return known_names ? known_names(fp) : KnownAgentName{}; };
  auto name_of = [&](const CompactString& fp, const CompactString& fallback) {
    std::string n = known(fp).name;
    return n.empty() ? fallback.str() : n;
  };

  Trace out;
  out.trace_id = id.trace_id;
  std::vector<Span> spans;
  spans.reserve(nodes_.size());
  // Room for the names and roll-ups added below, in the spans that get them: a generation span,
  // the largest, is then built at its exact size and not moved again by the shrink_to_fit below.
  auto spare = [](SpanKind k) {
    const bool named = k == SpanKind::kWorkflow || k == SpanKind::kAgent || k == SpanKind::kGuardrail ||
                       k == SpanKind::kHandoff;
    return named ? std::size_t{8} : std::size_t{0};
  };
  for (const auto& n : nodes_) spans.push_back(n.span.to_span(spare(n.span.kind)));
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    auto& n = nodes_[i];
    auto& s = spans[i];
    s.trace_id = id.trace_id;
    switch (s.kind) {
      case SpanKind::kWorkflow:
        s.name = "invoke_workflow " + id.workflow_name;
        s.set("gen_ai.operation.name", std::string("invoke_workflow"));
        s.set("gen_ai.workflow.name", id.workflow_name);
        {
          std::vector<const Span*> generations;
          for (std::size_t g = 0; g < nodes_.size(); ++g)
            if (nodes_[g].counts_as_generation && !nodes_[g].dropped) generations.push_back(&spans[g]);
          set_root_attribution(s, generations, id.group_id, id.metadata, id.release);
        }
        set_rollup_attributes(s, roll[i]);
        break;
      case SpanKind::kAgent: {
        const KnownAgentName k = known(n.agent_fp());
        std::string name = k.name.empty() ? n.fallback_name().str() : k.name;
        s.name = "invoke_agent " + name;
        s.set("gen_ai.agent.name", name);
        s.set("llmtap.agent.name_source", k.name.empty() ? std::string(n.fallback_source) : k.source);
        set_rollup_attributes(s, roll[i]);
        break;
      }
      case SpanKind::kGuardrail: {
        // OpenTelemetry GenAI (proposed): "apply_guardrail {gen_ai.guardian.name} {gen_ai.security.target.type}".
        const std::string name = name_of(n.agent_fp(), n.fallback_name());
        const auto* target = std::get_if<std::string>(s.find("gen_ai.security.target.type"));
        s.name = "apply_guardrail " + name + (target != nullptr ? " " + *target : std::string());
        s.set("gen_ai.guardian.name", name);
        set_rollup_attributes(s, roll[i]);
        break;
      }
      case SpanKind::kHandoff: {
        static const HandoffEnds kNone;
        const HandoffEnds& ends = n.handoff() != nullptr ? *n.handoff() : kNone;
        std::string from = name_of(ends.from_fp, ends.from_fallback);
        std::string to = name_of(ends.to_fp, ends.to_fallback);
        s.name = "handoff " + from + " -> " + to;
        s.set("llmtap.handoff.from_agent", from);
        s.set("llmtap.handoff.to_agent", to);
        break;
      }
      default:
        break;
    }
  }

  std::vector<std::size_t> order;
  for (std::size_t i = 1; i < nodes_.size(); ++i)
    if (!nodes_[i].dropped) order.push_back(i);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    if (nodes_[a].span.start_ns != nodes_[b].span.start_ns) return nodes_[a].span.start_ns < nodes_[b].span.start_ns;
    return depth[a] < depth[b];  // a parent before its child when they start together
  });
  out.spans.reserve(order.size() + 1);
  if (!spans.empty()) {
    spans[0].parent_span_id = id.remote_parent_id;
    out.spans.push_back(std::move(spans[0]));
  }
  // Parents' span ids are read before any span is moved out (root's id is already copied out).
  const std::string root_id = out.spans.empty() ? std::string() : out.spans[0].span_id;
  for (std::size_t i : order) {
    auto& n = nodes_[i];
    spans[i].parent_span_id = n.parent == 0 ? root_id : spans[static_cast<std::size_t>(n.parent)].span_id;
  }
  for (std::size_t i : order) out.spans.push_back(std::move(spans[i]));
  // A closed trace may wait in an exporter's queue (the store's holds up to 64 MB of them): not
  // with the spare room to_span() reserved for the names and roll-ups (8 attributes, ~600 bytes
  // a span) that most spans did not need.
  for (auto& s : out.spans) s.attributes.shrink_to_fit();
  nodes_.clear();
  if (totals != nullptr) *totals = std::move(roll);
  return out;
}

}  // namespace llmtap::trace
