// Continuations of closed traces (issue 14 item 5): a call that arrives after its trace's idle
// timeout closed it (a human approving a tool, a slow tool, a new user turn) still finds its run.
//
// When a trace closes, what a continuation needs is kept in a bounded index (continuation_index.h):
// the spans it would re-emit (the root, the agent and tool spans its conversations hang under,
// its open tool calls: a skeleton, with the totals already emitted) and its conversations, under
// the keys a later call can carry (open tool call ids, response ids, Responses conversation ids,
// conversation state hashes). A late call whose new items answer an open tool call, or carry no
// new user turn, revives the run: same trace id, the skeleton's spans re-emitted with the same span
// ids (the tool span complete with its result, the agent and root extended, totals covering the
// whole run) beside the new spans. A late call that starts a new user turn starts a new trace
// carrying a link to the closed one and its gen_ai.conversation.id.
//
// What ties an open trace to others (its part, links, carried totals) lives in linkage_, only for
// the traces that have any: an ordinary open trace holds nothing more for it.
#include <algorithm>

#include "trace/trace_assembler.h"

#include "trace/hex64.h"

namespace llmtap::trace {

namespace {

std::string state_key(std::uint64_t h) {
  std::string key = "s:";
  append_hex64(key, h);
  return key;
}

const std::string* string_attr(const Span& s, std::string_view key) {
  const AttrValue* v = s.find(key);
  return v != nullptr ? std::get_if<std::string>(v) : nullptr;
}

std::size_t link_bytes(const SpanLink& l) { return sizeof(SpanLink) + l.trace_id.size() + l.span_id.size() + 64; }

}  // namespace

TraceAssembler::DormantRun TraceAssembler::plan_dormant(const OpenTrace& t) const {
  DormantRun d;
  for (ConvId cid : t.conversations)
    if (auto w = wire_ids_.find(cid); w != wire_ids_.end()) d.wire_ids.emplace_back(cid, w->second);
  if (options_.continuation_max_traces == 0 || options_.continuation_max_bytes == 0) return d;
  // The run's own conversations; side calls (guardrails, routers) served a turn that is over.
  std::vector<const Conversation*> convs;
  for (ConvId cid : t.conversations)
    if (const Conversation& c = *conversations_.at(cid); !c.side) convs.push_back(&c);

  // Carry every node on the way from the root to what a continuation adds to or completes.
  const int n = t.tree.size();
  std::vector<int> index(static_cast<std::size_t>(n), -1);
  std::vector<bool> carry(static_cast<std::size_t>(n), false);
  auto mark = [&](int i) {
    for (; i >= 0 && i < n && !carry[static_cast<std::size_t>(i)]; i = t.tree.at(i).parent)
      carry[static_cast<std::size_t>(i)] = true;
  };
  mark(0);
  for (const Conversation* c : convs) {
    mark(c->agent_node);
    mark(c->parent_node);
    for (const auto& ot : c->open_tools) mark(ot.node);
  }
  for (int i = 0; i < n; ++i) {
    if (!carry[static_cast<std::size_t>(i)]) continue;
    index[static_cast<std::size_t>(i)] = d.skeleton.add(t.tree.at(i).clone());
    d.source_nodes.push_back(i);
  }
  auto remap = [&](int i) { return i >= 0 && i < n ? index[static_cast<std::size_t>(i)] : -1; };
  // Parents after every node has its new index: a parent may come after its child.
  for (int i = 0; i < d.skeleton.size(); ++i) {
    SpanNode& node = d.skeleton.at(i);
    node.parent = remap(node.parent);
  }
  for (const Conversation* src : convs) {
    Conversation c = *src;
    c.agent_node = remap(c.agent_node);
    c.parent_node = std::max(0, remap(c.parent_node));
    c.first_generation = -1;  // generations are not carried
    std::vector<int> top;
    for (int node : c.top_nodes)
      if (remap(node) >= 0) top.push_back(remap(node));
    c.top_nodes = std::move(top);
    for (auto& ot : c.open_tools) {
      ot.node = remap(ot.node);
      ot.nested_candidates.clear();  // those traces are closing or closed
      if (auto it = open_calls_.find(ot.call_id); it != open_calls_.end() && it->second == c.id)
        d.open_calls.emplace_back(ot.call_id, c.id);
    }
    for (const auto& rid : c.response_ids)
      if (auto it = responses_.find(response_key(rid.view())); it != responses_.end() && it->second.conv == c.id)
        d.responses.emplace_back(rid.str(), it->second);
    d.conversations.push_back(std::move(c));
  }
  return d;
}

void TraceAssembler::keep_dormant(DormantRun d, TraceLinkage linkage, Trace& out, const std::vector<NodeTotals>& totals) {
  if (out.spans.empty()) return;
  // The trace-level attributes and links of this emission (the root is out.spans[0]).
  Span& root = out.spans[0];
  for (const auto& l : linkage.root_links) root.links.push_back(l);
  for (auto& [span_id, link] : linkage.span_links)
    for (auto& s : out.spans)
      if (s.span_id == span_id) s.links.push_back(link);
  if (linkage.part > 1) root.set("llmtap.trace.part", static_cast<std::int64_t>(linkage.part));
  if (string_attr(root, "gen_ai.conversation.id") == nullptr) {
    std::string conversation = linkage.inherited_conversation_id;
    for (const auto& [cid, wire] : d.wire_ids) conversation = wire;
    if (!conversation.empty()) root.set("gen_ai.conversation.id", conversation);
  }
  if (d.skeleton.size() == 0) return;  // continuations are off

  d.trace_id = out.trace_id;
  d.root_span_id = root.span_id;
  d.remote_parent_id = root.parent_span_id;
  if (const std::string* c = string_attr(root, "gen_ai.conversation.id")) d.conversation_id = *c;
  d.linkage.part = linkage.part;
  d.linkage.root_links = std::move(linkage.root_links);
  std::unordered_map<std::string_view, const Span*> emitted;
  for (const auto& s : out.spans) emitted.emplace(s.span_id, &s);

  // What each carried span rolled up, less what its carried children did (they carry that
  // themselves and roll it up again).
  auto total_of = [&](int i) {
    const int source = d.source_nodes[static_cast<std::size_t>(i)];
    return source >= 0 && static_cast<std::size_t>(source) < totals.size() ? totals[static_cast<std::size_t>(source)]
                                                                            : NodeTotals{};
  };
  std::vector<NodeTotals> carried(static_cast<std::size_t>(d.skeleton.size()));
  for (int i = 0; i < d.skeleton.size(); ++i) carried[static_cast<std::size_t>(i)].add(total_of(i));
  for (int i = 1; i < d.skeleton.size(); ++i)
    if (const int parent = d.skeleton.at(i).parent; parent >= 0)
      carried[static_cast<std::size_t>(parent)].subtract(total_of(i));

  std::size_t bytes = sizeof(DormantRun);
  for (const auto& l : d.linkage.root_links) bytes += link_bytes(l);
  for (int i = 0; i < d.skeleton.size(); ++i) {
    SpanNode& node = d.skeleton.at(i);
    // Spans as emitted (names, root attribution), except open tools: they wait for their result.
    const auto digits = node.span.span_id.digits();
    if (auto it = emitted.find(std::string_view(digits.data(), digits.size())); it != emitted.end() && !node.open)
      node.span = OpenSpan::from_span(*it->second);
    d.linkage.carried.emplace_back(node.span.span_id.str(), carried[static_cast<std::size_t>(i)]);
    bytes += sizeof(SpanNode) + node.span.heap_bytes() + node.fallback_name().size() + node.agent_fp().size() +
             sizeof(std::pair<std::string, NodeTotals>);
  }

  std::vector<std::string> keys, shared;
  for (const auto& [call_id, conv] : d.open_calls) keys.push_back("c:" + call_id);
  for (const auto& [rid, rs] : d.responses) {
    keys.push_back("r:" + rid);
    bytes += rid.size() + sizeof(ResponseState) + 64;
  }
  for (const auto& [cid, wire] : d.wire_ids) keys.push_back("v:" + wire);
  for (const auto& c : d.conversations) {
    for (const auto& [h, seq] : c.states) shared.push_back(state_key(h));
    bytes += sizeof(Conversation) + c.agent_fp.size() + c.last_output_text.size() + c.states.size() * 48 +
             c.output_agents.size() * 48 + c.open_tools.size() * sizeof(OpenTool) + c.response_ids.size() * 32;
  }
  const ContinuationIndex::EntryId id = dormant_index_.insert(std::move(keys), std::move(shared), bytes);
  for (auto evicted : dormant_index_.take_evicted()) dormant_runs_.erase(evicted);
  if (id != 0) dormant_runs_.emplace(id, std::move(d));
}

bool TraceAssembler::resume_dormant(const ModelCall& call, const ConversationItems& req, bool ids_stable) {
  pending_link_ = {};
  if (dormant_index_.empty()) return false;
  std::optional<ContinuationIndex::EntryId> hit;
  bool answers_open_call = false;
  std::size_t new_from = 0;  // request items from here on are new to the closed run
  if (ids_stable) {
    for (const auto& msg : call.input) {
      if (msg.role != "tool" || msg.tool_call_id.empty()) continue;
      if ((hit = dormant_index_.find("c:" + msg.tool_call_id))) {
        answers_open_call = true;
        break;
      }
    }
  }
  if (!hit && !call.previous_response_id.empty()) hit = dormant_index_.find("r:" + call.previous_response_id);
  if (!hit && !call.conversation_id.empty()) hit = dormant_index_.find("v:" + call.conversation_id);
  // prefix[0] too when it is the digest of messages the parser left out (trace/elided_history.h).
  const std::size_t shortest = req.prefix.front() == kEmptyConversationHash ? 1 : 0;
  for (std::size_t len = req.prefix.size(); !hit && len-- > shortest;)
    if ((hit = dormant_index_.find(state_key(req.prefix[len])))) new_from = len;
  if (!hit) return false;
  auto it = dormant_runs_.find(*hit);
  if (it == dormant_runs_.end()) return false;

  const bool new_turn = std::any_of(req.items.begin() + static_cast<std::ptrdiff_t>(new_from), req.items.end(),
                                    [](const ConversationItem& i) { return i.kind == ItemKind::kUser; });
  if (!answers_open_call && new_turn) {
    // A new user turn of a conversation whose trace closed: a new trace, linked to that one.
    pending_link_ = {it->second.trace_id, it->second.root_span_id, it->second.conversation_id};
    dormant_index_.count_linked();
    return false;
  }
  DormantRun d = std::move(it->second);
  dormant_runs_.erase(it);
  dormant_index_.erase(*hit);
  dormant_index_.count_rejoined();
  revive(std::move(d), call.timings.request_start);
  return true;
}

void TraceAssembler::revive(DormantRun d, UnixNanos now) {
  auto t = std::make_unique<OpenTrace>();
  t->key = next_id_++;
  t->tree = std::move(d.skeleton);
  t->remote_trace_id = d.trace_id;  // the same trace, whatever a traceparent says now
  t->remote_parent_id = d.remote_parent_id;
  t->start = t->tree.at(0).span.start_ns;
  t->last_activity = now;
  for (auto& conv : d.conversations) {
    auto c = std::make_unique<Conversation>(std::move(conv));
    c->trace = t->key;
    // Its states are open to continuation again (new registration order: they are the newest).
    const auto old_states = std::move(c->states);
    c->states.clear();
    for (const auto& [h, seq] : old_states) {
      const std::uint64_t fresh = next_seq_++;
      states_[h].emplace(fresh, StateRef{c->id, c->last_connection, false});
      c->states.emplace(h, fresh);
    }
    if (!c->open_tools.empty()) with_open_tools_.insert(c->id);
    // Indexed again as note_call() indexed it (forget_indexed() took it out at close).
    if (c->first_user_key != 0) by_user_content_.add(c->first_user_key, c->id);
    for (std::uint64_t k : c->user_keys) by_user_content_.add(k, c->id);
    if (c->output_key != 0) by_output_.add(c->output_key, c->id);
    if (c->carried_key != 0) by_carried_output_.add(c->carried_key, c->id);
    t->conversations.push_back(c->id);
    conversations_[c->id] = std::move(c);
  }
  for (auto& [cid, wire] : d.wire_ids) {
    if (!conversations_.count(cid)) continue;
    wire_conversations_[wire] = cid;
    wire_ids_[cid] = std::move(wire);
  }
  for (auto& [rid, rs] : d.responses) responses_.emplace(response_key(rid), std::move(rs));
  for (const auto& [call_id, cid] : d.open_calls) open_calls_.emplace(call_id, cid);
  d.linkage.part += 1;
  linkage_[t->key] = std::move(d.linkage);
  const TraceKey key = t->key;
  traces_[key] = std::move(t);
  touched(*traces_.at(key));
}

void TraceAssembler::adopt_pending_link(const Conversation& conv) {
  if (pending_link_.trace_id.empty()) return;
  // Only a trace the new turn starts carries the link (not a run it nested into).
  const OpenTrace& t = *traces_.at(conv.trace);
  if (conv.parent_node != 0 || t.conversations.size() != 1) return;
  SpanLink link{pending_link_.trace_id, pending_link_.span_id, {}};
  link.attributes.push_back({"llmtap.link.type", std::string("previous_turn")});
  TraceLinkage& l = linkage_[t.key];
  l.root_links.push_back(std::move(link));
  l.inherited_conversation_id = pending_link_.conversation_id;
  pending_link_ = {};
}

void TraceAssembler::link_caller_span(const OpenTrace& t, const OpenSpan& generation, const std::string& trace_id,
                                      const std::string& span_id) {
  SpanLink link{trace_id, span_id, {{"llmtap.link.type", std::string("traceparent")}}};
  linkage_[t.key].span_links.emplace_back(generation.span_id.str(), std::move(link));
}

TraceAssembler::TraceLinkage TraceAssembler::take_linkage(TraceKey key) {
  auto it = linkage_.find(key);
  if (it == linkage_.end()) return {};
  TraceLinkage l = std::move(it->second);
  linkage_.erase(it);
  return l;
}

void TraceAssembler::merge_linkage(TraceKey from, TraceKey into) {
  auto it = linkage_.find(from);
  if (it == linkage_.end()) return;
  TraceLinkage l = std::move(it->second);
  linkage_.erase(it);
  TraceLinkage& host = linkage_[into];
  host.part = std::max(host.part, l.part);
  for (auto& c : l.carried) host.carried.push_back(std::move(c));
  for (auto& r : l.root_links) host.root_links.push_back(std::move(r));
  for (auto& s : l.span_links) host.span_links.push_back(std::move(s));
  if (host.inherited_conversation_id.empty()) host.inherited_conversation_id = std::move(l.inherited_conversation_id);
}

std::vector<std::pair<int, NodeTotals>> TraceAssembler::carried_nodes(const SpanTree& tree,
                                                                      const TraceLinkage& linkage) const {
  std::vector<std::pair<int, NodeTotals>> out;
  if (linkage.carried.empty()) return out;
  std::unordered_map<std::string, int> by_id;
  for (int i = 0; i < tree.size(); ++i) by_id.emplace(tree.at(i).span.span_id.str(), i);
  for (const auto& [span_id, totals] : linkage.carried)
    if (auto it = by_id.find(span_id); it != by_id.end()) out.emplace_back(it->second, totals);
  return out;
}

void TraceAssembler::note_wire_conversation(const Conversation& conv, const ModelCall& call) {
  if (call.conversation_id.empty()) return;
  auto [it, added] = wire_ids_.emplace(conv.id, call.conversation_id);
  if (!added && it->second == call.conversation_id) return;
  if (!added) {
    if (auto w = wire_conversations_.find(it->second); w != wire_conversations_.end() && w->second == conv.id)
      wire_conversations_.erase(w);
    it->second = call.conversation_id;
  }
  wire_conversations_[call.conversation_id] = conv.id;
}

void TraceAssembler::forget_wire_conversation(ConvId conv) {
  auto it = wire_ids_.find(conv);
  if (it == wire_ids_.end()) return;
  if (auto w = wire_conversations_.find(it->second); w != wire_conversations_.end() && w->second == conv)
    wire_conversations_.erase(w);
  wire_ids_.erase(it);
}

TraceAssembler::Conversation* TraceAssembler::by_wire_conversation(const ModelCall& call) {
  if (call.conversation_id.empty()) return nullptr;
  auto it = wire_conversations_.find(call.conversation_id);
  if (it == wire_conversations_.end()) return nullptr;
  auto c = conversations_.find(it->second);
  return c != conversations_.end() ? c->second.get() : nullptr;
}

}  // namespace llmtap::trace
