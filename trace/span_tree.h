#pragma once
// The spans of one open trace, kept as a tree of nodes until the trace closes. Nodes refer to
// their parent by index. A parent usually has a lower index than its children, but not always (a
// guardrail span made at the end wraps agent spans made earlier), so finish() rolls times, tokens
// and cost up deepest nodes first.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "common/span.h"
#include "pricing/cost.h"
#include "trace/compact_vector.h"
#include "trace/open_span.h"

namespace llmtap::trace {

// A handoff's two ends (handoff nodes only, so other nodes do not carry four empty strings).
struct HandoffEnds {
  CompactString from_fp, from_fallback, to_fp, to_fallback;
};

// What a span rolls up from its subtree: cost (exact picodollars), priced and unpriced calls, tokens.
struct NodeTotals {
  Cost cost;
  int priced = 0;
  int unpriced = 0;
  std::int64_t input_tokens = 0;
  std::int64_t output_tokens = 0;

  void add(const NodeTotals& o) {
    cost.prompt += o.cost.prompt;
    cost.completion += o.cost.completion;
    priced += o.priced;
    unpriced += o.unpriced;
    input_tokens += o.input_tokens;
    output_tokens += o.output_tokens;
  }
  void subtract(const NodeTotals& o) {
    cost.prompt -= o.cost.prompt;
    cost.completion -= o.cost.completion;
    priced -= o.priced;
    unpriced -= o.unpriced;
    input_tokens -= o.input_tokens;
    output_tokens -= o.output_tokens;
  }
};

// Where an agent's fallback name came from: "rule", "derived" or "" (none), in one byte.
class NameSource {
 public:
  NameSource() = default;
  NameSource(const char* s) : v_(s[0] == 'r' ? 1 : s[0] == 'd' ? 2 : 0) {}  // NOLINT: set from the literal
  operator const char*() const { return v_ == 1 ? "rule" : v_ == 2 ? "derived" : ""; }  // NOLINT

 private:
  std::uint8_t v_ = 0;
};

// A generation's own usage and cost (rolled up into ancestors at finish).
struct GenerationUsage {
  Cost cost;
  std::int64_t input_tokens = 0;
  std::int64_t output_tokens = 0;
};

// Agent (and guardrail: the agent it ran): fingerprint and the name to use when no handoff named
// it; handoff: its two ends.
struct AgentRef {
  CompactString fp;
  CompactString fallback_name;
  std::unique_ptr<HandoffEnds> handoff;
};

// One span of an open trace. A node is either a generation (it has usage) or not (it may name an
// agent or a handoff's ends): the two share their bytes, so a node costs 96 bytes, not 128.
struct SpanNode {
  SpanNode() { new (&agent_) AgentRef(); }
  SpanNode(SpanNode&& o) noexcept : SpanNode() { *this = std::move(o); }
  SpanNode& operator=(SpanNode&& o) noexcept;
  ~SpanNode() {
    if (has_usage_)
      usage_.~GenerationUsage();
    else
      agent_.~AgentRef();
  }
  // Copies only on purpose (a closed trace's skeleton kept for a late continuation).
  SpanNode clone() const { return SpanNode(*this); }

  OpenSpan span;    // ids, kind, times, status, attributes known when the node was made (compact)
  int parent = -1;  // index of the parent node; -1 for the root

  // Generation: priced, unpriced (reported usage the price table could not price).
  bool priced : 1 = false;
  bool counts_as_generation : 1 = false;
  bool unpriced : 1 = false;
  // Tool: still waiting for its result; dropped when it became a handoff span.
  bool open : 1 = false;
  bool dropped : 1 = false;

 private:
  bool has_usage_ : 1 = false;  // usage_ is the member of the union held (else agent_)

 public:
  NameSource fallback_source;  // agent: "rule" or "derived"

  // The usage of a generation (makes this node one); zero for other nodes.
  GenerationUsage& usage();
  bool has_usage() const { return has_usage_; }
  Cost cost() const { return has_usage_ ? usage_.cost : Cost{}; }
  std::int64_t input_tokens() const { return has_usage_ ? usage_.input_tokens : 0; }
  std::int64_t output_tokens() const { return has_usage_ ? usage_.output_tokens : 0; }

  // The agent it names, or the handoff's ends (a node that is not a generation); empty for a generation.
  AgentRef& agent();
  const CompactString& agent_fp() const { return has_usage_ ? kNoString : agent_.fp; }
  const CompactString& fallback_name() const { return has_usage_ ? kNoString : agent_.fallback_name; }
  const HandoffEnds* handoff() const { return has_usage_ ? nullptr : agent_.handoff.get(); }

 private:
  static const CompactString kNoString;
  void reset_role() noexcept;
  void copy_flags(const SpanNode& o);  // parent, flags, name source
  // clone()'s copy, member by member (a member added above must be added here), the handoff ends
  // deep-copied.
  SpanNode(const SpanNode& o);

  union {
    GenerationUsage usage_;
    AgentRef agent_;
  };
};

// A name the wire gave an agent: "wire" (Chat `name` on its messages), "handoff" (a transfer).
struct KnownAgentName {
  std::string name;  // "" when none is known
  std::string source;
};
// Resolves an agent fingerprint to a name the wire or a handoff gave it.
using AgentNameLookup = std::function<KnownAgentName(const std::string& fingerprint)>;

struct TraceIdentity {
  std::string trace_id;          // chosen trace id (remote one from traceparent, or new)
  std::string remote_parent_id;  // the root's parent span id from traceparent, or ""
  std::string workflow_name;
  std::string group_id;
  const std::map<std::string, std::string>* metadata = nullptr;
  std::string release;  // service.version (OTEL_RESOURCE_ATTRIBUTES)
};

// A new node: ids, kind, start (= end until children widen it) and the kind attributes.
SpanNode make_node(SpanKind kind, UnixNanos start, int parent, const char* openinference);

// The spans of one open trace. A trace of a single call (a root, its agent and the agent's
// generation, as most traces of a gateway are while they wait for a next call that may never
// come) is held as one block: the three spans' own fields, the generation's attributes inline,
// about half the bytes of three nodes and an attribute block. Any other node added, and any
// access to a node, first turns it into the general form (a node array) with the nodes exactly
// as they were added.
class SpanTree {
 public:
  SpanTree() { new (&nodes_) CompactVector<SpanNode>(); }
  SpanTree(SpanTree&& o) noexcept;
  SpanTree& operator=(SpanTree&& o) noexcept;
  SpanTree(const SpanTree&) = delete;
  SpanTree& operator=(const SpanTree&) = delete;
  ~SpanTree() {
    reset();
    nodes_.~CompactVector();
  }

  int add(SpanNode node);
  SpanNode& at(int i) { return nodes()[static_cast<std::size_t>(i)]; }
  const SpanNode& at(int i) const { return nodes()[static_cast<std::size_t>(i)]; }
  int size() const;
  // Whether it is held in the single-call form (for tests of its memory).
  bool single_call_form() const { return single() != nullptr; }
  // The single-call form's block, in bytes; 0 in the general form (the memory budget's estimate).
  std::size_t single_call_bytes() const;

  // Moves every node of `other` except its root here; the root's children go under `new_parent`.
  // Returns the offset added to `other`'s indices (index i there is i + offset here).
  int graft(SpanTree&& other, int new_parent);

  // Latest time any node has seen.
  UnixNanos latest_time() const;

  // Closes still-open tools at the trace's end (marked llmtap.tool.unanswered), makes agent,
  // tool and workflow spans cover their children, rolls up cost and tokens, names agents and
  // handoffs, assigns ids and returns the spans: root first, then in start order.
  // CARRIED: what earlier parts of a continued trace already rolled up into some nodes (by node
  // index), so their re-emitted spans cover the whole run. TOTALS, when given, receives each node's
  // rolled-up totals by node index.
  Trace finish(const TraceIdentity& id, const AgentNameLookup& known_names,
               const std::vector<std::pair<int, NodeTotals>>& carried = {}, std::vector<NodeTotals>* totals = nullptr);

 private:
  struct SingleCall;  // span_tree_single_call.cc

  // The single-call block, or null in the general form. The word the union holds tells: a
  // node array's block is 16-byte aligned (or null), a single-call block is marked by bit 0.
  SingleCall* single() const;
  // Keeps NODE in the single-call form when it is the next node such a trace holds.
  bool add_to_single(SpanNode& node);
  // The general form's node array, made from the single-call block first if needed (a const
  // access too: the nodes are the same, only how they are held changes).
  CompactVector<SpanNode>& nodes() const;
  void reset() noexcept;

  union {
    CompactVector<SpanNode> nodes_;
    std::uintptr_t single_;  // a SingleCall's address | 1
  };
};

}  // namespace llmtap::trace
