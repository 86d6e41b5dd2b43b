#include "trace/trace_assembler.h"

#include <algorithm>
#include <cctype>
#include <utility>

#include "common/ids.h"
#include "trace/agent_identity.h"
#include "trace/attribution_attrs.h"
#include "trace/conversation_items.h"
#include "trace/generation_span.h"
#include "trace/hosted_tool_span.h"
#include "trace/run_evidence.h"

namespace llmtap::trace {

struct AnsweredTransfer {
  bool found = false;
  bool history_filtered = false;  // the request no longer carries the transfer (input filter)
  int node = -1;
  std::string call_id;
  std::string target_name;
};

namespace {

constexpr std::size_t kMaxStatusMessage = 512;
constexpr std::size_t kMaxHandoffNames = 10000;
// Output items remembered per conversation (which agent produced them, for names on the wire).
constexpr std::size_t kMaxOutputAgents = 4096;
// Bounds memory when many runs start while many tool calls are open; a nested run starts soon
// after its tool call opens, so the first candidates are the ones that matter.
constexpr std::size_t kMaxNestedCandidates = 256;
// A trace this large is emitted at the next tick even if still active; its conversations then
// continue in a new trace.
constexpr int kMaxSpansPerTrace = 20000;
// States a conversation ended in that a later request may still continue: each turn adds one, and
// a request that forks an old turn (an edited message, a retry) goes back a few at most. Bounds a
// long conversation's state whatever its length.
constexpr std::size_t kMaxStatesPerConversation = 64;
// previous_response_id almost always names one of the latest responses of a conversation.
constexpr std::size_t kMaxResponseStatesPerConversation = 32;
// Prewarms whose response no call has named yet; a prewarm is named by the very next call.
constexpr std::size_t kMaxPrewarmStates = 4096;
// A trace idle this many timeouts closes even while it could still nest under an open tool call.
constexpr UnixNanos kDeferralLimitTimeouts = 4;

bool is_lower_hex(std::string_view s) {
  for (char c : s)
    if (!std::isxdigit(static_cast<unsigned char>(c)) || std::isupper(static_cast<unsigned char>(c)))
      return false;
  return true;
}

bool all_zero(std::string_view s) { return s.find_first_not_of('0') == std::string_view::npos; }

// W3C traceparent "vv-<32 hex trace id>-<16 hex parent id>-<2 hex flags>".
bool parse_traceparent(std::string_view v, std::string& trace_id, std::string& span_id) {
  v = trim(v);
  if (v.size() < 55 || v[2] != '-' || v[35] != '-' || v[52] != '-') return false;
  auto version = v.substr(0, 2), tid = v.substr(3, 32), sid = v.substr(36, 16), flags = v.substr(53, 2);
  if (!is_lower_hex(version) || version == "ff" || !is_lower_hex(tid) || !is_lower_hex(sid) ||
      !is_lower_hex(flags) || all_zero(tid) || all_zero(sid))
    return false;
  if (version == "00" && v.size() != 55) return false;
  trace_id = tid;
  span_id = sid;
  return true;
}

}  // namespace

TraceAssembler::TraceAssembler(TraceOptions options, const Pricer* pricer)
    : options_(std::move(options)),
      pricer_(pricer),
      budget_(options_.max_open_traces, options_.memory_budget),
      dormant_index_(options_.continuation_max_bytes, options_.continuation_max_traces, options_.memory_budget) {}

TraceAssembler::~TraceAssembler() {
  for (auto& [key, t] : traces_) forget_charge(*t);
}

void TraceAssembler::add(const ModelCall& call) {
  bool ids_stable = stable_call_ids(call);
  // Leading messages the parser left out: the digest recorded for them (trace/elided_history.h).
  const std::optional<ElidedHistories::Entry> elided = elided_.find(call, ids_stable);
  const ConversationItems req = elided ? conversation_items_after(elided->input, call.input, ids_stable)
                                       : conversation_items(call.input, ids_stable);
  if (call.state_only) return add_state_only(call, ids_stable, req.items);

  // A call continuing a prewarm may leave out what the prewarm already said.
  const PrewarmState* prewarm = prewarm_continued(call);
  std::string instructions = effective_instructions(call);
  if (instructions.empty() && prewarm != nullptr) instructions = prewarm->instructions;
  const std::string fp =
      agent_fingerprint(instructions, call.tools.empty() && prewarm != nullptr ? prewarm->tools : call.tools);

  Match m = match(call, req.items, req.prefix, ids_stable, fp);
  // Nothing open continues it: a closed trace may (a late approval, a slow tool, a new turn).
  if (m.conv == nullptr && resume_dormant(call, req, ids_stable)) m = match(call, req.items, req.prefix, ids_stable, fp);
  const bool is_new = m.conv == nullptr;
  Conversation& conv = is_new ? start_conversation(call, fp) : *m.conv;
  if (is_new) adopt_pending_link(conv);
  note_wire_conversation(conv, call);
  if (is_new && !m.base.empty()) {
    conv.first_item = m.base.first;
  } else if (is_new && elided && !elided->input.empty()) {
    conv.first_item = elided->input.first;
  } else if (is_new && !req.items.empty()) {
    conv.first_item = req.items.front().hash;
  }

  AnsweredTransfer transfer;
  if (!is_new) {
    std::vector<std::size_t> result_msgs;
    for (std::size_t i = m.new_from; i < req.items.size(); ++i)
      if (req.items[i].kind == ItemKind::kToolResult) result_msgs.push_back(req.items[i].message);
    answer_tools(conv, call, result_msgs, ids_stable, &transfer);
    if (!m.filtered_transfer.empty()) take_filtered_transfer(conv, call, m.filtered_transfer, &transfer);
    learn_wire_names(conv, call, req.items);
    if (!transfer.found) find_client_transfer(conv, call, req.items, m.new_from, &transfer);
  }

  if (conv.agent_node < 0)
    open_agent(conv, call.timings.request_start, fp, instructions);
  else if (fp != conv.agent_fp)
    switch_agent(conv, call, fp, instructions, transfer);

  OpenTrace& tr = *traces_.at(conv.trace);
  if (tr.remote_trace_id.empty() && !call.traceparent.empty() && tr.conversations.size() == 1)
    if (std::string tid, sid; parse_traceparent(call.traceparent, tid, sid)) {
      tr.remote_trace_id = tid;
      tr.remote_parent_id = sid;
    }
  std::string caller_trace, caller_span;  // SPEC.md "Incoming traceparent, precisely"
  const bool caller_named = !call.traceparent.empty() && parse_traceparent(call.traceparent, caller_trace, caller_span);

  PricedCall priced;
  if (pricer_ != nullptr) priced = pricer_->price(call);
  SpanNode gen = generation_node(call, pricer_ != nullptr ? &priced : nullptr, options_.capture_content);
  gen.span.name = shared_strings_.get(gen.span.name.view());  // "chat <model>": the same in many traces
  set_call_attribution(gen.span, call.attribution, options_);
  if (!call.traceparent.empty() && !caller_named) gen.span.set("llmtap.traceparent.invalid", true);
  // A caller span the trace did not adopt is linked from this call's generation.
  if (caller_named && (caller_trace != tr.remote_trace_id || caller_span != tr.remote_parent_id))
    link_caller_span(tr, gen.span, caller_trace, caller_span);
  gen.parent = conv.agent_node;
  const UnixNanos gen_end = gen.span.end_ns;
  note_call(conv, call, tr.tree.add(std::move(gen)));

  // Each requested tool call opens a tool span when the client could start it: in a stream, when
  // that call was complete (ToolCall::ready_at); otherwise at the end of the response (for a stream
  // its last event, possibly before the framing's final bytes).
  const UnixNanos tool_start = call.timings.content_end != 0    ? call.timings.content_end
                               : call.timings.response_end != 0 ? call.timings.response_end
                                                                : gen_end;
  auto ready = [&](const ToolCall& tc) {
    return tc.ready_at != 0 && tc.ready_at >= call.timings.request_start && tc.ready_at <= tool_start ? tc.ready_at
                                                                                                      : tool_start;
  };
  std::size_t unnamed = 0;
  for (const auto& msg : call.output) {
    for (const auto& tc : msg.tool_calls) {
      if (tc.server_side) {  // run by the provider within this response: complete already
        tr.tree.add(server_tool_node(make_node(SpanKind::kTool, 0, conv.agent_node, "TOOL"), tc, call,
                                     options_.capture_content));
        continue;
      }
      const UnixNanos start = ready(tc);
      SpanNode t = make_node(SpanKind::kTool, start, conv.agent_node, "TOOL");
      t.open = true;
      t.span.name = shared_strings_.get("execute_tool " + tc.name);
      t.span.set("gen_ai.operation.name", std::string("execute_tool"));
      t.span.set("gen_ai.tool.name", tc.name);
      t.span.set("gen_ai.tool.type", tc.tool_type.empty() ? std::string("function") : tc.tool_type);
      OpenTool ot;
      ot.call_id = tc.id.empty() ? tc.name + "#" + std::to_string(unnamed++) : tc.id;
      if (!tc.id.empty()) t.span.set("gen_ai.tool.call.id", tc.id);
      if (options_.capture_content) t.span.set("gen_ai.tool.call.arguments", tc.arguments);
      ot.name = tc.name;
      ot.start = start;
      if (!is_transfer_tool(tc.name)) ot.argument_keys = argument_text_keys(tc.arguments);
      ot.node = tr.tree.add(std::move(t));
      if (ids_stable && !tc.id.empty()) open_calls_[tc.id] = conv.id;
      conv.open_tools.push_back(std::move(ot));
      with_open_tools_.insert(conv.id);
    }
  }

  // Nothing continues an embeddings call; registering its input would glue unrelated calls
  // that embed the same text.
  if (generation_operation(call) != "embeddings") {
    HistoryDigest state = m.base.empty() && elided ? elided->input : m.base;
    for (const auto& it : req.items) state.append(it.hash);
    if (m.base.empty()) elided_.remember(call, conv.id, state, ids_stable, elided);
    register_states(conv, call, state, ids_stable);
  }

  remember_output_agent(conv, call, ids_stable);
  conv.last_response_end = tool_start;
  conv.last_connection = call.connection_id;
  conv.last_output_text = final_text(call.output);
  tr.last_activity = std::max({tr.last_activity, gen_end, call.timings.request_start});
  touched(tr);
}

TraceAssembler::Match TraceAssembler::match(const ModelCall& call, const std::vector<ConversationItem>& items,
                                            const std::vector<std::uint64_t>& prefix, bool ids_stable,
                                            const std::string& fp) {
  Match m;
  if (!call.previous_response_id.empty()) {
    if (const ResponseState* r = find_response(call.previous_response_id)) {
      m.conv = conversations_.at(r->conv).get();
      m.base = r->items;
      return m;
    }
    if (const PrewarmState* p = prewarm_continued(call)) {
      // The prewarm's items come first; it may itself have continued a conversation.
      auto c = conversations_.find(p->conv);
      m.conv = c != conversations_.end() ? c->second.get() : nullptr;
      m.base = p->items;
      return m;
    }
  }
  // A Responses `conversation` the server keeps: the request carries only new items.
  if (Conversation* c = by_wire_conversation(call)) {
    m.conv = c;
    return m;
  }
  // prefix[0] is a state too when it is the digest of messages the parser left out.
  const std::size_t shortest = prefix.front() == kEmptyConversationHash ? 1 : 0;
  for (std::size_t len = prefix.size(); len-- > shortest;) {
    auto it = states_.find(prefix[len]);
    if (it == states_.end() || it->second.empty()) continue;
    // Best: not continued yet, then on this connection; ties keep the oldest. A request that adds
    // nothing to the state is a retry of the call that ended there (it failed or was cut off):
    // once one retry took it, the same request again is someone else's new conversation.
    const bool retry = len + 1 == prefix.size();
    StateRef* best = nullptr;
    std::pair<bool, bool> best_rank{false, false};
    for (auto& [seq, ref] : it->second) {
      if (retry && ref.continued) continue;
      const std::pair<bool, bool> rank{!ref.continued, ref.connection_id == call.connection_id};
      if (best != nullptr && rank <= best_rank) continue;
      best = &ref;
      best_rank = rank;
      if (rank == std::pair<bool, bool>{true, true}) break;
    }
    if (best == nullptr) continue;
    best->continued = true;
    m.conv = conversations_.at(best->conv).get();
    m.new_from = len;
    return m;
  }
  if (ids_stable) {
    for (const auto& msg : call.input) {
      if (msg.role != "tool" || msg.tool_call_id.empty()) continue;
      auto it = open_calls_.find(msg.tool_call_id);
      if (it != open_calls_.end()) {
        m.conv = conversations_.at(it->second).get();
        return m;
      }
    }
  }
  if (!items.empty()) {
    std::pair<bool, UnixNanos> best{false, 0};
    for (ConvId cid : with_open_tools_) {
      Conversation& c = *conversations_.at(cid);
      if (c.first_item != items.front().hash || c.agent_fp == fp) continue;
      auto known = handoff_names_.find(fp);  // an agent some handoff already named
      for (const auto& ot : c.open_tools) {
        if (!is_transfer_tool(ot.name) || ot.start > call.timings.request_start) continue;
        if (known != handoff_names_.end() && !transfer_tool_targets(ot.name, known->second)) continue;
        std::pair<bool, UnixNanos> rank{c.last_connection == call.connection_id, ot.start};
        if (m.conv != nullptr && rank < best) continue;
        best = rank;
        m.conv = &c;
        m.new_from = items.size();
        m.filtered_transfer = ot.call_id;
      }
    }
  }
  return m;
}

void TraceAssembler::take_filtered_transfer(Conversation& conv, const ModelCall& call, const std::string& call_id,
                                            AnsweredTransfer* transfer) {
  auto it = std::find_if(conv.open_tools.begin(), conv.open_tools.end(),
                         [&](const OpenTool& t) { return t.call_id == call_id; });
  if (it == conv.open_tools.end() || transfer->found) return;
  SpanNode& n = traces_.at(conv.trace)->tree.at(it->node);
  n.open = false;
  n.span.end_ns = std::max(n.span.start_ns, call.timings.request_start);
  transfer->found = true;
  transfer->history_filtered = true;
  transfer->node = it->node;
  transfer->call_id = it->call_id;
  transfer->target_name = transfer_tool_target(it->name);
  if (auto oc = open_calls_.find(it->call_id); oc != open_calls_.end() && oc->second == conv.id) open_calls_.erase(oc);
  conv.open_tools.erase(it);
  if (conv.open_tools.empty()) with_open_tools_.erase(conv.id);
}

const TraceAssembler::PrewarmState* TraceAssembler::prewarm_continued(const ModelCall& call) const {
  if (call.previous_response_id.empty()) return nullptr;
  auto it = prewarms_.find(call.previous_response_id);
  return it == prewarms_.end() ? nullptr : &it->second;
}

void TraceAssembler::add_state_only(const ModelCall& call, bool ids_stable,
                                    const std::vector<ConversationItem>& req_items) {
  if (call.response_id.empty() || prewarms_.count(call.response_id)) return;
  PrewarmState st;
  if (!call.previous_response_id.empty()) {
    if (const ResponseState* r = find_response(call.previous_response_id)) {
      st.conv = r->conv;
      st.items = r->items;
    } else if (const PrewarmState* p = prewarm_continued(call)) {
      st.conv = p->conv;
      st.items = p->items;
    }
  }
  for (const auto& it : req_items) st.items.append(it.hash);
  for (const auto& it : conversation_items(call.output, ids_stable).items) st.items.append(it.hash);
  st.instructions = effective_instructions(call);
  st.tools = call.tools;
  prewarms_.emplace(call.response_id, std::move(st));
  prewarm_order_.push_back(call.response_id);
  if (prewarm_order_.size() > kMaxPrewarmStates) {
    prewarms_.erase(prewarm_order_.front());
    prewarm_order_.pop_front();
  }
}

TraceAssembler::Conversation& TraceAssembler::start_conversation(const ModelCall& call, const std::string& fp) {
  if (Conversation* joined = join_existing_run(call, fp)) return *joined;
  auto t = std::make_unique<OpenTrace>();
  t->key = next_id_++;
  t->start = call.timings.request_start;
  t->last_activity = call.timings.request_start;
  t->tree.add(make_node(SpanKind::kWorkflow, call.timings.request_start, -1, "CHAIN"));

  // Any open tool call may be running this conversation as a nested agent; only its result
  // will tell, so remember the candidates.
  for (ConvId cid : with_open_tools_) {
    for (auto& ot : conversations_.at(cid)->open_tools) {
      if (ot.start > call.timings.request_start || is_transfer_tool(ot.name)) continue;
      if (ot.nested_candidates.size() >= kMaxNestedCandidates ||
          t->potential_parents.size() >= kMaxNestedCandidates)
        continue;
      ot.nested_candidates.push_back(t->key);
      t->potential_parents.push_back({cid, ot.call_id});
    }
  }

  OpenTrace& tr = *t;
  traces_[t->key] = std::move(t);
  return add_conversation(tr, 0);
}

void TraceAssembler::answer_tools(Conversation& conv, const ModelCall& call,
                                  const std::vector<std::size_t>& result_msgs, bool ids_stable,
                                  AnsweredTransfer* transfer) {
  for (std::size_t mi : result_msgs) {
    const Message& r = call.input[mi];
    auto& tools = conv.open_tools;
    auto it = tools.end();
    if (ids_stable && !r.tool_call_id.empty()) {
      it = std::find_if(tools.begin(), tools.end(), [&](const OpenTool& t) { return t.call_id == r.tool_call_id; });
    } else {
      // Ids not usable (synthesized per request): results come in call order, so answer the
      // oldest open call of that name (or the oldest at all when the result has no name).
      it = std::find_if(tools.begin(), tools.end(), [&](const OpenTool& t) {
        return r.tool_name.empty() || t.name == r.tool_name;
      });
    }
    if (it == tools.end()) continue;
    OpenTool ot = std::move(*it);
    tools.erase(it);
    if (auto oc = open_calls_.find(ot.call_id); oc != open_calls_.end() && oc->second == conv.id)
      open_calls_.erase(oc);

    {
      SpanNode& n = traces_.at(conv.trace)->tree.at(ot.node);
      n.open = false;
      n.span.end_ns = std::max(n.span.start_ns, call.timings.request_start);
      if (options_.capture_content) n.span.set("gen_ai.tool.call.result", r.text);
      // The model gave no id and the parser made one up ("name#n"); the client invented its own
      // (Gemini CLI: run_shell_command_<ms>_0) and sends it back with the result: the client's wins.
      if (!ids_stable && !r.tool_call_id.empty() && r.tool_call_id != ot.call_id &&
          r.tool_call_id.rfind(ot.name + "#", 0) != 0)
        n.span.set("gen_ai.tool.call.id", r.tool_call_id);
      const ToolOutcome outcome = tool_result_outcome(r);
      if (outcome.rejected) n.span.set("llmtap.tool.rejected", true);
      if (outcome.error) {
        n.span.error = true;
        n.span.status_message = options_.capture_content
                                    ? std::string(trim(r.text).substr(0, kMaxStatusMessage))
                                    : std::string("tool reported an error");
      }
    }

    auto target = transfer_result_target(r.text);
    if (!transfer->found && (is_transfer_tool(ot.name) || target)) {
      transfer->found = true;
      transfer->node = ot.node;
      transfer->call_id = ot.call_id;
      transfer->target_name = target ? *target : transfer_tool_target(ot.name);
    }
    try_nest(conv, ot, r.text, call.timings.request_start);
  }
  if (conv.open_tools.empty()) with_open_tools_.erase(conv.id);
}

void TraceAssembler::try_nest(Conversation& parent, const OpenTool& tool, const std::string& result_text,
                              UnixNanos result_time) {
  for (TraceKey key : tool.nested_candidates) {
    auto it = traces_.find(key);
    if (it == traces_.end() || key == parent.trace) continue;
    OpenTrace& child = *it->second;
    const Conversation& root = *conversations_.at(child.conversations.front());
    if (child.start < tool.start || child.last_activity > result_time) continue;
    if (!carries_output(result_text, root.last_output_text.view())) continue;
    if (!weak_nesting_allowed(child, parent.trace)) continue;  // a weaker hint never crosses runs

    graft_trace(key, parent.trace, tool.node);
    return;
  }
}

void TraceAssembler::graft_trace(TraceKey child_key, TraceKey host_key, int parent_node) {
  auto it = traces_.find(child_key);
  OpenTrace& child = *it->second;
  OpenTrace& host = *traces_.at(host_key);
  const int offset = host.tree.graft(std::move(child.tree), parent_node);
  for (ConvId cid : child.conversations) {
    Conversation& c = *conversations_.at(cid);
    c.trace = host.key;
    c.parent_node = c.parent_node == 0 ? parent_node : c.parent_node + offset;
    if (c.agent_node >= 0) c.agent_node += offset;
    if (c.first_generation >= 0) c.first_generation += offset;
    for (auto& n : c.top_nodes) n += offset;
    for (auto& ot : c.open_tools) ot.node += offset;
    host.conversations.push_back(cid);
  }
  host.start = std::min(host.start, child.start);
  host.last_activity = std::max(host.last_activity, child.last_activity);
  host.token_counts += child.token_counts;
  merge_linkage(child_key, host_key);
  if (host.remote_trace_id.empty()) {
    host.remote_trace_id = child.remote_trace_id;
    host.remote_parent_id = child.remote_parent_id;
  }
  touched(host);
  due_candidates_.erase(child_key);
  side_pending_.erase(child_key);
  forget_charge(*it->second);
  traces_.erase(it);
}

void TraceAssembler::open_agent(Conversation& conv, UnixNanos start, const std::string& fp,
                                const std::string& instructions) {
  SpanNode a = make_node(SpanKind::kAgent, start, conv.parent_node, "AGENT");
  a.span.set("gen_ai.operation.name", std::string("invoke_agent"));
  a.span.set("gen_ai.agent.id", fp);
  if (auto rule = rule_agent_name(options_.agent_name_rules, instructions)) {
    a.agent().fallback_name = shared_strings_.get(*rule);
    a.fallback_source = "rule";
  } else {
    a.agent().fallback_name = shared_strings_.get(derived_agent_name(instructions, fp));
    a.fallback_source = "derived";
  }
  a.agent().fp = shared_strings_.get(fp);
  conv.agent_fp = a.agent_fp();
  conv.agent_fallback = a.fallback_name();
  conv.agent_node = traces_.at(conv.trace)->tree.add(std::move(a));
  conv.top_nodes.push_back(conv.agent_node);
}

void TraceAssembler::switch_agent(Conversation& conv, const ModelCall& call, const std::string& fp,
                                  const std::string& instructions, const AnsweredTransfer& transfer) {
  SpanTree& tree = traces_.at(conv.trace)->tree;
  const UnixNanos end = call.timings.request_start;
  UnixNanos start = conv.last_response_end != 0 ? conv.last_response_end : end;
  SpanNode h = make_node(SpanKind::kHandoff, start, conv.agent_node, "CHAIN");
  h.span.set("gen_ai.operation.name", std::string("handoff"));
  if (transfer.found) {
    if (transfer.node >= 0) {
      SpanNode& t = tree.at(transfer.node);
      t.dropped = true;  // the transfer call is this handoff, not a tool execution
      h.span.start_ns = t.span.start_ns;
    }
    h.span.set("gen_ai.tool.call.id", transfer.call_id);
    if (transfer.history_filtered) h.span.set("llmtap.handoff.history_filtered", true);
    if (!transfer.target_name.empty()) {
      if (handoff_names_.size() >= kMaxHandoffNames) handoff_names_.clear();
      handoff_names_[fp] = transfer.target_name;
    }
  } else {
    h.span.set("llmtap.handoff.inferred", true);
  }
  h.span.end_ns = std::max(h.span.start_ns, end);
  auto ends = std::make_unique<HandoffEnds>();
  ends->from_fp = conv.agent_fp;
  ends->from_fallback = conv.agent_fallback;
  ends->to_fp = fp;
  if (auto rule = rule_agent_name(options_.agent_name_rules, instructions))
    ends->to_fallback = *rule;
  else
    ends->to_fallback = derived_agent_name(instructions, fp);
  h.agent().handoff = std::move(ends);
  tree.add(std::move(h));
  open_agent(conv, end, fp, instructions);
}

void TraceAssembler::remember_output_agent(Conversation& conv, const ModelCall& call, bool ids_stable) {
  if (conv.output_agents.size() >= kMaxOutputAgents) conv.output_agents.clear();
  for (const auto& it : conversation_items(call.output, ids_stable).items) conv.output_agents[it.hash] = conv.agent_fp;
}

void TraceAssembler::learn_wire_names(const Conversation& conv, const ModelCall& call,
                                      const std::vector<ConversationItem>& items) {
  // A framework that names its agents on the wire (Chat `name` on assistant messages) names the
  // agent whose response that message was.
  for (const auto& it : items) {
    const Message& msg = call.input[it.message];
    if (msg.role != "assistant" || msg.name.empty()) continue;
    auto produced = conv.output_agents.find(it.hash);
    if (produced == conv.output_agents.end()) continue;
    if (wire_names_.size() >= kMaxHandoffNames) wire_names_.clear();
    wire_names_[produced->second] = msg.name;
  }
}

void TraceAssembler::find_client_transfer(const Conversation& conv, const ModelCall& call,
                                          const std::vector<ConversationItem>& items, std::size_t new_from,
                                          AnsweredTransfer* transfer) {
  // A transfer call the client wrote into the history itself (LangGraph's supervisor appends
  // `transfer_back_to_<supervisor>` and its result when a worker is done): no model produced it.
  for (std::size_t i = items.size(); i-- > new_from;) {
    const ConversationItem& it = items[i];
    if (it.kind != ItemKind::kToolCall || conv.output_agents.count(it.hash)) continue;
    const ToolCall& tc = call.input[it.message].tool_calls[it.tool_call];
    if (!is_transfer_tool(tc.name)) continue;
    transfer->found = true;
    transfer->node = -1;
    transfer->call_id = tc.id;
    transfer->target_name = transfer_tool_target(tc.name);
    return;
  }
}

void TraceAssembler::register_states(Conversation& conv, const ModelCall& call, HistoryDigest state, bool ids_stable) {
  const std::uint64_t prefix = state.chain;

  auto add_state = [&](std::uint64_t h) {
    if (auto known = conv.states.find(h); known != conv.states.end()) {
      // Ended there again (a retry that failed too): open to a continuation once more.
      if (auto refs = states_.find(h); refs != states_.end())
        if (auto r = refs->second.find(known->second); r != refs->second.end()) r->second.continued = false;
      return;
    }
    const std::uint64_t seq = next_seq_++;
    states_[h].emplace(seq, StateRef{conv.id, call.connection_id, false});
    conv.states.emplace(h, seq);
    if (conv.states.size() > kMaxStatesPerConversation) forget_oldest_state(conv);
  };
  auto extend = [&](const std::vector<Message>& msgs) {
    std::uint64_t h = prefix;
    for (const auto& it : conversation_items(msgs, ids_stable).items) h = chain_hash(h, it.hash);
    return h;
  };

  // Chat n>1: the next request continues with one of the choices.
  if (call.n > 1 && call.output.size() > 1) {
    for (const auto& m : call.output) add_state(extend({m}));
  } else {
    add_state(extend(call.output));
  }
  if (!call.response_id.empty()) {
    for (const auto& it : conversation_items(call.output, ids_stable).items) state.append(it.hash);
    responses_[response_key(call.response_id)] = {conv.id, state};
    conv.response_ids.push_back(call.response_id);
    if (conv.response_ids.size() > kMaxResponseStatesPerConversation) {
      forget_response(conv.response_ids.front().view(), conv.id);
      conv.response_ids.erase(conv.response_ids.begin());
    }
  }
}

const TraceAssembler::ResponseState* TraceAssembler::find_response(std::string_view id) const {
  auto it = responses_.find(response_key(id));
  if (it == responses_.end()) return nullptr;
  const auto& ids = conversations_.at(it->second.conv)->response_ids;
  return std::any_of(ids.begin(), ids.end(), [&](const CompactString& s) { return s.view() == id; }) ? &it->second
                                                                                                   : nullptr;
}

void TraceAssembler::forget_response(std::string_view id, ConvId conv) {
  if (auto it = responses_.find(response_key(id)); it != responses_.end() && it->second.conv == conv) responses_.erase(it);
}

void TraceAssembler::forget_oldest_state(Conversation& conv) {
  auto oldest = std::min_element(conv.states.begin(), conv.states.end(),
                                 [](const auto& a, const auto& b) { return a.second < b.second; });
  if (auto refs = states_.find(oldest->first); refs != states_.end()) {
    refs->second.erase(oldest->second);
    if (refs->second.empty()) states_.erase(refs);
  }
  conv.states.erase(oldest);
}

const TraceAssembler::OpenTool* TraceAssembler::find_open_tool(const PotentialParent& p) const {
  auto c = conversations_.find(p.conv);
  if (c == conversations_.end()) return nullptr;
  for (const auto& ot : c->second->open_tools)
    if (ot.call_id == p.call_id) return &ot;
  return nullptr;
}

bool TraceAssembler::deferred(const OpenTrace& t) const {
  for (const auto& p : t.potential_parents)
    if (const OpenTool* ot = find_open_tool(p); ot != nullptr && traces_.count(conversations_.at(p.conv)->trace) &&
                                                 conversations_.at(p.conv)->trace != t.key)
      return true;
  return false;
}

UnixNanos TraceAssembler::activity(const OpenTrace& t) const {
  UnixNanos a = t.last_activity;
  for (ConvId cid : t.conversations)
    for (const auto& ot : conversations_.at(cid)->open_tools)
      for (TraceKey k : ot.nested_candidates)
        if (auto it = traces_.find(k); it != traces_.end() && k != t.key)
          a = std::max(a, it->second->last_activity);
  return a;
}

void TraceAssembler::touched(OpenTrace& t) {
  const auto bytes = static_cast<std::uint32_t>(
      OpenTraceBudget::estimate(static_cast<std::size_t>(t.tree.size()), t.tree.single_call_bytes()));
  if (bytes > t.charged_bytes) budget_.charge(bytes - t.charged_bytes);
  else budget_.release(t.charged_bytes - bytes);
  t.charged_bytes = bytes;
  activity_queue_.emplace(t.last_activity, t.key);
  if (t.tree.size() > kMaxSpansPerTrace) due_candidates_.insert(t.key);
}

void TraceAssembler::forget_charge(OpenTrace& t) {
  budget_.release(std::exchange(t.charged_bytes, 0));
}

std::vector<Trace> TraceAssembler::close_idle(UnixNanos now, std::size_t max) {
  resolve_pending_side_calls(now, false);
  // Traces whose own last activity is older than the timeout become candidates; an entry whose
  // trace has moved on since (or closed) is stale: a newer entry stands for it.
  while (!activity_queue_.empty() && now - activity_queue_.top().first > options_.idle_timeout_ns) {
    const auto [at, key] = activity_queue_.top();
    activity_queue_.pop();
    if (auto it = traces_.find(key); it != traces_.end() && it->second->last_activity == at)
      due_candidates_.insert(key);
  }
  std::vector<Trace> out;
  for (bool progress = true; progress && out.size() < max;) {
    progress = false;
    std::vector<TraceKey> due;
    for (TraceKey key : due_candidates_) {
      const OpenTrace& t = *traces_.at(key);
      const bool oversized = t.tree.size() > kMaxSpansPerTrace;
      // activity() only moves the time forward: a trace active within the timeout is not due.
      if (!oversized && now - t.last_activity <= options_.idle_timeout_ns) continue;
      const UnixNanos idle = now - activity(t);
      const bool overdue = idle > kDeferralLimitTimeouts * options_.idle_timeout_ns;
      if (oversized || (idle > options_.idle_timeout_ns && (overdue || !deferred(t)))) due.push_back(key);
    }
    for (TraceKey key : due) {
      if (out.size() >= max) break;
      out.push_back(finish(key));
      progress = true;
    }
  }
  return out;
}

std::vector<Trace> TraceAssembler::close_over_budget(std::size_t max) {
  std::vector<Trace> out;
  // The oldest valid entry of the activity queue is the least recently active trace.
  while (out.size() < max && budget_.exceeded(traces_.size()) && !activity_queue_.empty()) {
    const auto [at, key] = activity_queue_.top();
    activity_queue_.pop();
    auto it = traces_.find(key);
    if (it == traces_.end() || it->second->last_activity != at) continue;
    budget_.record_early_close(traces_.size());
    out.push_back(finish(key));
    if (!out.back().spans.empty()) out.back().spans.front().set(kClosedEarlyAttribute, true);
  }
  return out;
}

std::vector<Trace> TraceAssembler::close_all(std::size_t max) {
  resolve_pending_side_calls(0, true);
  std::vector<Trace> out;
  while (out.size() < max && !traces_.empty()) {
    if (closing_at_ == closing_order_.size()) {
      closing_order_.clear();
      closing_order_.reserve(traces_.size());
      for (const auto& [key, t] : traces_) closing_order_.push_back(key);
      std::sort(closing_order_.begin(), closing_order_.end());  // oldest first, as they were opened
      closing_at_ = 0;
    }
    const TraceKey key = closing_order_[closing_at_++];
    if (traces_.contains(key)) out.push_back(finish(key));
  }
  if (traces_.empty()) {
    activity_queue_ = {};
    closing_order_ = {};
    closing_at_ = 0;
  }
  return out;
}

Trace TraceAssembler::finish(TraceKey key) {
  OpenTrace& t = *traces_.at(key);
  resolve_side_calls(t);
  DormantRun dormant = plan_dormant(t);
  for (ConvId cid : t.conversations) {
    Conversation& c = *conversations_.at(cid);
    forget_indexed(c);
    forget_wire_conversation(cid);
    for (const auto& [h, seq] : c.states) {
      auto it = states_.find(h);
      if (it == states_.end()) continue;
      it->second.erase(seq);
      if (it->second.empty()) states_.erase(it);
    }
    for (const auto& rid : c.response_ids) forget_response(rid.view(), cid);
    for (const auto& ot : c.open_tools)
      if (auto it = open_calls_.find(ot.call_id); it != open_calls_.end() && it->second == cid) open_calls_.erase(it);
    with_open_tools_.erase(cid);
    conversations_.erase(cid);
  }

  TraceIdentity id;
  id.trace_id = t.remote_trace_id.empty() ? new_trace_id() : t.remote_trace_id.str();
  id.remote_parent_id = t.remote_parent_id;
  id.workflow_name = options_.effective_workflow_name();
  id.group_id = options_.group_id;
  id.metadata = &options_.metadata;
  id.release = options_.release;
  TraceLinkage linkage = take_linkage(key);
  std::vector<NodeTotals> totals;
  Trace out = t.tree.finish(
      id,
      [this](const std::string& fp) {
        // The name the wire gives is exact; a transfer tool's name may be a lossy spelling of it.
        if (auto it = wire_names_.find(fp); it != wire_names_.end()) return KnownAgentName{it->second, "wire"};
        if (auto it = handoff_names_.find(fp); it != handoff_names_.end())
          return KnownAgentName{it->second, "handoff"};
        return KnownAgentName{};
      },
      carried_nodes(t.tree, linkage), &totals);
  keep_dormant(std::move(dormant), std::move(linkage), out, totals);
  forget_charge(t);
  traces_.erase(key);
  due_candidates_.erase(key);
  return out;
}

}  // namespace llmtap::trace
