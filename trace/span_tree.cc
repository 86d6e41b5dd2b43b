#include "trace/span_tree.h"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <numeric>

#include "common/ids.h"
#include "trace/attribution_attrs.h"
#include "trace/varint.h"

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

// The single-call form: the root, its agent and the agent's generation, each with only the
// fields such nodes use, in one allocation; after the fixed fields (the generation's, from the
// third node on) its end, usage and cost as varints, then its encoded attributes. A node that
// is not like that (a tool, a handoff, an error's message, a second generation) is never put
// here: it makes the tree general first.
struct SpanTree::SingleCall {
  enum Flag : std::uint8_t { kPriced = 1, kCountsAsGeneration = 2, kUnpriced = 4, kHasUsage = 8, kError = 16 };

  SpanIdText ids[3];
  CompactString root_attributes, agent_attributes;  // their blocks (shared by most such spans)
  CompactString agent_fp, agent_fallback, generation_name;
  UnixNanos start = 0;  // the root's and the agent's start and end, and the generation's start
  std::uint8_t count = 0;  // 1: the root; 2: and its agent; 3: and the agent's generation
  std::uint8_t kinds = 0;  // the root's kind | the agent's << 4
  NameSource agent_source;
  std::uint8_t generation_flags = 0;  // the last fixed byte: the varints follow it

  static std::size_t fixed_bytes() { return offsetof(SingleCall, generation_flags) + 1; }

  // The varints and attributes (empty before the generation).
  std::string_view tail(std::size_t bytes) const { return {reinterpret_cast<const char*>(this) + fixed_bytes(), bytes}; }

  // A block whose tail is VARINTS then ATTRIBUTES.
  static SingleCall* make(std::string_view varints, std::string_view attributes) {
    void* p = ::operator new(std::max(sizeof(SingleCall), fixed_bytes() + varints.size() + attributes.size()));
    auto* b = new (p) SingleCall();
    char* tail = reinterpret_cast<char*>(p) + fixed_bytes();
    std::memcpy(tail, varints.data(), varints.size());
    if (!attributes.empty()) std::memcpy(tail + varints.size(), attributes.data(), attributes.size());
    return b;
  }
  static void destroy(SingleCall* b) noexcept {
    b->~SingleCall();
    ::operator delete(b);
  }

  // What the tail holds, read back.
  struct Generation {
    UnixNanos end = 0;
    GenerationUsage usage;
    std::string_view attributes;
  };
  Generation generation() const {
    // The attributes' length comes first, so the whole tail's length is known from its start.
    std::size_t at = 0;
    const std::string_view head = tail(6 * kMaxVarintBytes);  // at most six varints
    Generation g;
    const std::size_t attribute_bytes = read_varint(head, at);
    g.end = static_cast<UnixNanos>(static_cast<std::uint64_t>(start) + read_varint(head, at));  // end >= start
    if ((generation_flags & kHasUsage) != 0) {
      g.usage.input_tokens = read_zigzag(head, at);
      g.usage.output_tokens = read_zigzag(head, at);
      g.usage.cost.prompt = read_zigzag(head, at);
      g.usage.cost.completion = read_zigzag(head, at);
    }
    g.attributes = std::string_view(reinterpret_cast<const char*>(this) + fixed_bytes() + at, attribute_bytes);
    return g;
  }
};

namespace {

// A node with nothing of its own but ids, kind, one time and attributes (a root or an agent as
// start_conversation() and open_agent() make them).
bool plain(const SpanNode& n) {
  return !n.has_usage() && n.handoff() == nullptr && !n.priced && !n.counts_as_generation && !n.unpriced && !n.open &&
         !n.dropped && n.span.name.empty() && n.span.status_message.empty() && !n.span.error &&
         n.span.end_ns == n.span.start_ns;
}

bool no_agent(const SpanNode& n) {
  return n.agent_fp().empty() && n.fallback_name().empty() && *static_cast<const char*>(n.fallback_source) == '\0';
}

}  // namespace

SpanTree::SingleCall* SpanTree::single() const {
  std::uintptr_t w;
  std::memcpy(&w, static_cast<const void*>(this), sizeof w);
  return (w & 1) != 0 ? reinterpret_cast<SingleCall*>(w & ~std::uintptr_t{1}) : nullptr;
}

SpanTree::SpanTree(SpanTree&& o) noexcept {
  if (SingleCall* b = o.single()) {
    single_ = reinterpret_cast<std::uintptr_t>(b) | 1;
    new (&o.nodes_) CompactVector<SpanNode>();
  } else {
    new (&nodes_) CompactVector<SpanNode>(std::move(o.nodes_));
  }
}

SpanTree& SpanTree::operator=(SpanTree&& o) noexcept {
  if (this == &o) return *this;
  reset();
  nodes_.~CompactVector();
  new (this) SpanTree(std::move(o));
  return *this;
}

void SpanTree::reset() noexcept {
  if (SingleCall* b = single()) {
    SingleCall::destroy(b);
    new (&nodes_) CompactVector<SpanNode>();
  } else {
    nodes_.clear();
  }
}

int SpanTree::size() const {
  if (const SingleCall* b = single()) return b->count;
  return static_cast<int>(nodes_.size());
}

bool SpanTree::add_to_single(SpanNode& n) {
  SingleCall* b = single();
  const int at = b != nullptr ? b->count : static_cast<int>(nodes_.size());
  if (at < 2) n.span.shrink();  // their blocks are kept as they are (most are shared)
  if (at == 0) {
    if (!plain(n) || !no_agent(n) || n.parent != -1) return false;
    b = SingleCall::make({}, {});
    b->count = 1;
    b->kinds = static_cast<std::uint8_t>(n.span.kind);
    b->start = n.span.start_ns;
    b->ids[0] = n.span.span_id;
    b->root_attributes = n.span.attribute_block();
    nodes_.~CompactVector();  // empty
    single_ = reinterpret_cast<std::uintptr_t>(b) | 1;
    return true;
  }
  if (b == nullptr) return false;
  if (at == 1) {
    if (!plain(n) || n.parent != 0 || n.span.start_ns != b->start) return false;
    b->count = 2;
    b->kinds = static_cast<std::uint8_t>(b->kinds | static_cast<unsigned>(n.span.kind) << 4);
    b->ids[1] = n.span.span_id;
    b->agent_attributes = n.span.attribute_block();
    b->agent_fp = n.agent_fp();
    b->agent_fallback = n.fallback_name();
    b->agent_source = n.fallback_source;
    return true;
  }
  if (at != 2 || n.parent != 1 || n.span.kind != SpanKind::kGeneration || n.span.start_ns != b->start ||
      n.span.end_ns < n.span.start_ns ||
      !n.span.status_message.empty() || n.open || n.dropped || n.handoff() != nullptr || !no_agent(n))
    return false;
  const std::string_view attrs = n.span.encoded_attributes();  // built or shrunk: the same bytes
  char varints[6 * kMaxVarintBytes];
  char* end = put_varint(varints, attrs.size());
  end = put_varint(end, static_cast<std::uint64_t>(n.span.end_ns) - static_cast<std::uint64_t>(n.span.start_ns));
  if (n.has_usage()) {
    end = put_varint(end, zigzag(n.input_tokens()));
    end = put_varint(end, zigzag(n.output_tokens()));
    end = put_varint(end, zigzag(n.cost().prompt));
    end = put_varint(end, zigzag(n.cost().completion));
  }
  SingleCall* g = SingleCall::make(std::string_view(varints, static_cast<std::size_t>(end - varints)), attrs);
  g->count = 3;
  g->kinds = b->kinds;
  g->agent_source = b->agent_source;
  g->start = b->start;
  for (int i = 0; i < 2; ++i) g->ids[i] = b->ids[i];
  g->root_attributes = std::move(b->root_attributes);
  g->agent_attributes = std::move(b->agent_attributes);
  g->agent_fp = std::move(b->agent_fp);
  g->agent_fallback = std::move(b->agent_fallback);
  g->ids[2] = n.span.span_id;
  g->generation_name = std::move(n.span.name);
  g->generation_flags = static_cast<std::uint8_t>(
      (n.priced ? SingleCall::kPriced : 0) | (n.counts_as_generation ? SingleCall::kCountsAsGeneration : 0) |
      (n.unpriced ? SingleCall::kUnpriced : 0) | (n.has_usage() ? SingleCall::kHasUsage : 0) |
      (n.span.error ? SingleCall::kError : 0));
  SingleCall::destroy(b);
  single_ = reinterpret_cast<std::uintptr_t>(g) | 1;
  return true;
}

CompactVector<SpanNode>& SpanTree::nodes() const {
  auto& self = const_cast<SpanTree&>(*this);
  SingleCall* b = single();
  if (b == nullptr) return self.nodes_;
  CompactVector<SpanNode> nodes;
  nodes.reserve(3);  // as add() reserves for a single call's trace
  SpanNode& root = nodes.emplace_back();
  root.span.kind = static_cast<SpanKind>(b->kinds & 0xf);
  root.span.span_id = b->ids[0];
  root.span.start_ns = root.span.end_ns = b->start;
  root.span.set_attribute_block(std::move(b->root_attributes));
  if (b->count >= 2) {
    SpanNode& agent = nodes.emplace_back();
    agent.parent = 0;
    agent.span.kind = static_cast<SpanKind>(b->kinds >> 4);
    agent.span.span_id = b->ids[1];
    agent.span.start_ns = agent.span.end_ns = b->start;
    agent.span.set_attribute_block(std::move(b->agent_attributes));
    agent.agent().fp = std::move(b->agent_fp);
    agent.agent().fallback_name = std::move(b->agent_fallback);
    agent.fallback_source = b->agent_source;
  }
  if (b->count == 3) {
    const SingleCall::Generation g = b->generation();
    SpanNode& gen = nodes.emplace_back();
    gen.parent = 1;
    gen.span.kind = SpanKind::kGeneration;
    gen.span.span_id = b->ids[2];
    gen.span.name = std::move(b->generation_name);
    gen.span.start_ns = b->start;
    gen.span.end_ns = g.end;
    gen.span.error = (b->generation_flags & SingleCall::kError) != 0;
    gen.span.set_encoded_attributes(g.attributes);
    gen.priced = (b->generation_flags & SingleCall::kPriced) != 0;
    gen.counts_as_generation = (b->generation_flags & SingleCall::kCountsAsGeneration) != 0;
    gen.unpriced = (b->generation_flags & SingleCall::kUnpriced) != 0;
    if ((b->generation_flags & SingleCall::kHasUsage) != 0) gen.usage() = g.usage;
  }
  SingleCall::destroy(b);
  new (&self.nodes_) CompactVector<SpanNode>(std::move(nodes));
  return self.nodes_;
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

UnixNanos SpanTree::latest_time() const {
  if (const SingleCall* b = single()) return b->count == 3 ? std::max(b->start, b->generation().end) : b->start;
  UnixNanos t = 0;
  for (const auto& n : nodes_) t = std::max({t, n.span.start_ns, n.span.end_ns});
  return t;
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
  for (const auto& n : nodes_) spans.push_back(n.span.to_span());
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
