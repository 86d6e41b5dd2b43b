#pragma once
// The spans of one open trace, kept as a tree of nodes until the trace closes. Nodes refer to
// their parent by index. A parent usually has a lower index than its children, but not always (a
// guardrail span made at the end wraps agent spans made earlier), so finish() rolls times, tokens
// and cost up deepest nodes first.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/span.h"
#include "pricing/cost.h"
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

struct SpanNode {
  SpanNode() = default;
  SpanNode(SpanNode&&) noexcept = default;
  SpanNode& operator=(SpanNode&&) noexcept = default;
  // Copies only on purpose (a closed trace's skeleton kept for a late continuation).
  SpanNode clone() const { return SpanNode(*this); }

  OpenSpan span;    // ids, kind, times, status, attributes known when the node was made (compact)
  int parent = -1;  // index of the parent node; -1 for the root

  // Generation: own usage and cost (rolled up into ancestors at finish).
  bool priced : 1 = false;
  bool counts_as_generation : 1 = false;
  bool unpriced : 1 = false;  // reported usage the price table could not price
  // Tool: still waiting for its result; dropped when it became a handoff span.
  bool open : 1 = false;
  bool dropped : 1 = false;
  Cost cost;
  std::int64_t input_tokens = 0;
  std::int64_t output_tokens = 0;

  // Agent (and guardrail: the agent it ran): fingerprint and the name to use when no handoff named it.
  CompactString agent_fp;
  CompactString fallback_name;
  const char* fallback_source = "";  // "rule" or "derived" (a literal)

  std::unique_ptr<HandoffEnds> handoff;

 private:
  // clone()'s copy, member by member (a member added above must be added here), the handoff ends
  // deep-copied.
  SpanNode(const SpanNode& o)
      : span(o.span),
        parent(o.parent),
        priced(o.priced),
        counts_as_generation(o.counts_as_generation),
        unpriced(o.unpriced),
        open(o.open),
        dropped(o.dropped),
        cost(o.cost),
        input_tokens(o.input_tokens),
        output_tokens(o.output_tokens),
        agent_fp(o.agent_fp),
        fallback_name(o.fallback_name),
        fallback_source(o.fallback_source),
        handoff(o.handoff ? std::make_unique<HandoffEnds>(*o.handoff) : nullptr) {}
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

class SpanTree {
 public:
  int add(SpanNode node);
  SpanNode& at(int i) { return nodes_[static_cast<std::size_t>(i)]; }
  const SpanNode& at(int i) const { return nodes_[static_cast<std::size_t>(i)]; }
  int size() const { return static_cast<int>(nodes_.size()); }

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
  std::vector<SpanNode> nodes_;
};

}  // namespace llmtap::trace
