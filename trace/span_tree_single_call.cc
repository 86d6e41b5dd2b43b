// SpanTree's single-call form (span_tree.h): how a trace of one call is held in one block, and
// how it becomes the general node array again.
#include <algorithm>
#include <cstddef>
#include <cstring>

#include "trace/span_tree.h"
#include "trace/varint.h"

namespace llmtap::trace {

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
    if (!varints.empty()) std::memcpy(tail, varints.data(), varints.size());
    if (!attributes.empty()) std::memcpy(tail + varints.size(), attributes.data(), attributes.size());
    return b;
  }
  // The block's bytes as allocated by make().
  std::size_t block_bytes() const {
    if (count < 3) return sizeof(SingleCall);
    const std::string_view attrs = generation().attributes;
    const auto used = static_cast<std::size_t>(attrs.data() + attrs.size() - reinterpret_cast<const char*>(this));
    return std::max(sizeof(SingleCall), used);
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

std::size_t SpanTree::single_call_bytes() const {
  const SingleCall* b = single();
  return b != nullptr ? b->block_bytes() : 0;
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

UnixNanos SpanTree::latest_time() const {
  if (const SingleCall* b = single()) return b->count == 3 ? std::max(b->start, b->generation().end) : b->start;
  UnixNanos t = 0;
  for (const auto& n : nodes_) t = std::max({t, n.span.start_ns, n.span.end_ns});
  return t;
}

}  // namespace llmtap::trace
