// Where a conversation that continues no other goes (TraceAssembler, see trace_assembler.h):
//  1. nested under the one open tool call whose arguments are its first user message verbatim
//     (a sub-agent called from a tool: agent.asTool(), an AI SDK tool calling generateText);
//     when tool calls of two runs both carry it, neither: the weaker hint (a result carrying its
//     final text, try_nest) may still nest it later, but only within one run;
//  2. otherwise a new trace; when the evidence then names a run it serves as a side call
//     (side_call_joiner.h: an input guardrail, a router or title call, an output guardrail), the
//     trace is merged into that run's, once every call of the evidence window has arrived (when
//     either trace goes idle, or kSideCallSettle after its first call), so that concurrent calls
//     arriving in any order are judged alike.
// At the trace's end resolve_side_calls() says which conversation of a shared user turn ran it
// (the main one) and what the others were, and wraps guardrails in apply_guardrail spans.
#include <strings.h>

#include <algorithm>
#include <map>
#include <optional>

#include "trace/agent_identity.h"
#include "trace/run_evidence.h"
#include "trace/trace_assembler.h"

namespace llmtap::trace {

namespace {

// Candidates looked at per side call (a turn many open runs share is ambiguous anyway).
constexpr std::size_t kMaxSideCandidates = 256;
// A compacted history continues within this time after the summary was complete (a client may
// summarize, verify and count tokens first), and not before it (a little slack for the framing).
constexpr UnixNanos kCompactionWindow = 60'000'000'000;
constexpr UnixNanos kCompactionSlack = 50'000'000;
// Past the widest evidence window (10 s), every call a side call could be judged against has arrived.
constexpr UnixNanos kSideCallSettle = 12'000'000'000;

}  // namespace

TraceAssembler::Conversation* TraceAssembler::join_existing_run(const ModelCall& call, const std::string& fp) {
  const std::string_view first_user = first_user_text(call.input);
  if (first_user.empty()) return nullptr;
  if (Conversation* nested = nest_by_arguments(call, first_user)) return nested;
  return continue_after_compaction(call, fp);
}

TraceAssembler::Conversation* TraceAssembler::continue_after_compaction(const ModelCall& call, const std::string& fp) {
  // The run's agent starting afresh with a history whose user content carries, beyond it, an
  // answer one of its conversations just gave to a new instruction on top of its history: the
  // summary of a compaction call. One run only.
  // The conversation of that trace the run's agent started (where the continuation goes).
  auto run_of = [&](const Conversation& c) -> Conversation* {
    for (ConvId id : traces_.at(c.trace)->conversations) {
      Conversation& o = *conversations_.at(id);
      if (o.first_agent_fp.view() == fp) return &o;
    }
    return nullptr;
  };
  // No open conversation's answer is long enough to be carried: no window of the request can match
  // (the scan below keys every window of every long user message).
  if (by_carried_output_.empty()) return nullptr;
  Conversation* host = nullptr;
  Conversation* run = nullptr;
  for (const auto& m : call.input) {
    if (m.role != "user" || !m.tool_calls.empty()) continue;
    const std::size_t chars = text_chars(m.text);
    if (chars <= kCarryWindow) continue;
    bool ambiguous = false;
    find_carried_keys(m.text, [&](std::uint64_t key) {
      by_carried_output_.for_each(key, [&](ConvId id) {
        Conversation& c = *conversations_.at(id);
        Conversation* r = run_of(c);
        if (r == nullptr || !c.last_asked_anew) return true;  // no run of this agent, or no summary asked for
        const UnixNanos since = call.timings.request_start - c.last_response_end;
        if (since + kCompactionSlack < 0 || since > kCompactionWindow) return true;
        if (chars <= text_chars(c.last_output_text.view()) || !carries_text(m.text, c.last_output_text.view()))
          return true;
        if (host != nullptr && host->trace != c.trace) {
          ambiguous = true;
          return false;
        }
        host = &c;
        run = r;
        return true;
      });
      return ambiguous;
    });
    if (ambiguous) return nullptr;
    if (host != nullptr) break;
  }
  if (host == nullptr) return nullptr;
  mark_compaction(*host, fp);
  return &add_conversation(*traces_.at(run->trace), run->parent_node);
}

void TraceAssembler::mark_compaction(Conversation& host, const std::string& fp) {
  if (host.last_generation < 0) return;
  SpanTree& tree = traces_.at(host.trace)->tree;
  const int agent = tree.at(host.last_generation).parent;
  if (agent < 0) return;
  if (tree.at(agent).agent_fp() != fp) {
    // A summarizer agent of its own (its own instructions) made the summary. The run's agent did
    // not hand the run to it: the handoff inferred when the summarizer's call continued the
    // run's history (ending as that agent span starts, from the run's agent) is no span.
    SpanNode& summarizer = tree.at(agent);
    summarizer.span.set("llmtap.side_call.role", std::string(to_string(SideRole::kCompaction)));
    for (int i = 0; i < tree.size(); ++i) {
      SpanNode& h = tree.at(i);
      if (h.span.kind == SpanKind::kHandoff && !h.dropped && h.span.end_ns == summarizer.span.start_ns &&
          h.parent >= 0 && tree.at(h.parent).agent_fp() == fp)
        h.dropped = true;
    }
    return;
  }
  // The run's own agent summarized itself (same instructions and tools, as a client sharing its
  // prompt cache does): that call becomes an agent span of its own under it.
  const SpanNode& main = tree.at(agent);
  SpanNode c = make_node(SpanKind::kAgent, tree.at(host.last_generation).span.start_ns, agent, "AGENT");
  c.span.set("gen_ai.operation.name", std::string("invoke_agent"));
  c.span.set("gen_ai.agent.id", main.agent_fp().str() + "/compaction");
  c.span.set("llmtap.side_call.role", std::string(to_string(SideRole::kCompaction)));
  c.agent().fp = main.agent_fp().str() + "/compaction";
  c.agent().fallback_name = main.fallback_name().str() + " compaction";
  c.fallback_source = main.fallback_source;
  const int node = tree.add(std::move(c));
  tree.at(host.last_generation).parent = node;
}

TraceAssembler::Conversation* TraceAssembler::nest_by_arguments(const ModelCall& call, std::string_view first_user) {
  if (with_open_tools_.empty()) return nullptr;  // no tool call to nest under: skip keying the message
  const std::uint64_t want = text_key(first_user);
  Conversation* host = nullptr;
  OpenTool* tool = nullptr;
  for (ConvId cid : with_open_tools_) {
    Conversation& c = *conversations_.at(cid);
    for (auto& ot : c.open_tools) {
      if (ot.start > call.timings.request_start) continue;
      if (std::find(ot.argument_keys.begin(), ot.argument_keys.end(), want) == ot.argument_keys.end()) continue;
      if (host != nullptr && host->trace != c.trace) return nullptr;  // two runs carry it: ambiguous
      // Parallel calls with the same arguments: the one with fewest sub-agents yet, then the oldest.
      if (tool == nullptr || ot.nested_runs < tool->nested_runs ||
          (ot.nested_runs == tool->nested_runs && ot.start < tool->start)) {
        host = &c;
        tool = &ot;
      }
    }
  }
  if (tool == nullptr) return nullptr;
  ++tool->nested_runs;
  return &add_conversation(*traces_.at(host->trace), tool->node);
}

std::vector<SideCallCandidate> TraceAssembler::side_call_candidates(const Conversation& conv) const {
  std::vector<SideCallCandidate> out;
  std::vector<std::pair<ConvId, SideEvidence>> seen;  // a conversation indexed under two of the keys
  auto shares_connection = [&](const Conversation& c) {
    for (std::uint64_t a : c.connections)
      if (a != 0 && std::find(conv.connections.begin(), conv.connections.end(), a) != conv.connections.end())
        return true;
    return false;
  };
  auto collect = [&](const ConversationIndex& index, std::uint64_t key, SideEvidence evidence) {
    index.for_each(key, [&](ConvId id) {
      if (out.size() >= kMaxSideCandidates) return false;
      const Conversation& c = *conversations_.at(id);
      if (c.trace == conv.trace) return true;
      if (std::find(seen.begin(), seen.end(), std::make_pair(c.id, evidence)) != seen.end()) return true;
      seen.emplace_back(c.id, evidence);
      out.push_back({c.trace, c.id, evidence, c.first_agent_fp.view(), c.first_call_start, c.first_call_end,
                     c.last_response_end, c.client_pid, shares_connection(c)});
      return true;
    });
  };
  // What the call carries as its user turn: its first user message, and all its user content
  // joined (a turn the client split in two messages, or merged with its context).
  const std::uint64_t whole = conv.whole_is_first || conv.user_keys.empty() ? 0 : conv.user_keys.front();
  for (std::uint64_t key : {conv.first_user_key, whole}) {
    if (key == 0) continue;
    collect(by_user_content_, key, SideEvidence::kSameUserTurn);
    collect(by_output_, key, SideEvidence::kAnswersOutput);
  }
  return out;
}

void TraceAssembler::resolve_pending_side_calls(UnixNanos now, bool all) {
  auto idle = [&](TraceKey k) {
    auto it = traces_.find(k);
    return it == traces_.end() || now - it->second->last_activity > options_.idle_timeout_ns;
  };
  std::vector<TraceKey> pending(side_pending_.begin(), side_pending_.end());
  for (TraceKey key : pending) {
    auto it = traces_.find(key);
    if (it == traces_.end()) {
      side_pending_.erase(key);
      continue;
    }
    const Conversation& conv = *conversations_.at(it->second->conversations.front());
    const auto candidates = side_call_candidates(conv);
    if (!all) {
      bool settled = now - conv.first_call_end > kSideCallSettle || idle(key);
      for (const auto& c : candidates) settled = settled || idle(c.trace);
      if (!settled) continue;
    }
    side_pending_.erase(key);
    SideCallFacts facts{conv.first_agent_fp.view(), conv.first_call_start, conv.first_call_end, conv.client_pid};
    auto choice = choose_side_call_host(facts, candidates);
    if (!choice) continue;
    const ConvId cid = conv.id;
    graft_trace(key, choice->trace, 0);
    conversations_.at(cid)->side = SideLink{choice->conv, choice->evidence};
  }
}

TraceAssembler::Conversation& TraceAssembler::add_conversation(OpenTrace& t, int parent_node) {
  auto c = std::make_unique<Conversation>();
  c->id = next_id_++;
  c->trace = t.key;
  c->parent_node = parent_node;
  t.conversations.push_back(c->id);
  Conversation& ref = *c;
  conversations_[c->id] = std::move(c);
  return ref;
}

void TraceAssembler::note_call(Conversation& conv, const ModelCall& call, int generation_node) {
  if (conv.calls++ == 0) {
    conv.first_call_start = call.timings.request_start;
    const UnixNanos end = call.timings.content_end != 0 ? call.timings.content_end : call.timings.response_end;
    conv.first_call_end = std::max(end, call.timings.request_start);
    conv.first_generation = generation_node;
    conv.first_call_cut = call.status == CallStatus::kIncomplete;
    conv.offers_tools = !call.tools.empty();
    conv.client_pid = call.client_pid;
    for (const auto& h : call.request_headers)
      if (h.name.size() == 10 && strcasecmp(h.name.c_str(), "user-agent") == 0) conv.first_user_agent = h.value;
    std::vector<std::uint64_t> user_keys = user_content_keys(call.input);
    conv.first_user_key = first_user_key(call.input, user_keys);
    conv.user_keys = std::move(user_keys);
    conv.whole_is_first = conv.user_keys.empty() || conv.user_keys.front() == conv.first_user_key;
    conv.user_keys.erase(std::remove(conv.user_keys.begin(), conv.user_keys.end(), conv.first_user_key),
                         conv.user_keys.end());
    conv.user_keys.shrink_to_fit();
    conv.first_agent_fp = conv.agent_fp;
    // A trace's first conversation that shares its turn or its input with another run's may be a
    // side call of it (or the run the other one serves): decided later, with all the evidence.
    const OpenTrace& t = *traces_.at(conv.trace);
    if (conv.parent_node == 0 && t.conversations.front() == conv.id && !side_call_candidates(conv).empty())
      side_pending_.insert(conv.trace);
    if (conv.first_user_key != 0) by_user_content_.add(conv.first_user_key, conv.id);
    for (std::uint64_t k : conv.user_keys) by_user_content_.add(k, conv.id);
  }
  // The connections it used: a side call sharing one came from the same process.
  if (call.connection_id != 0 &&
      std::find(conv.connections.begin(), conv.connections.end(), call.connection_id) == conv.connections.end())
    if (auto free = std::find(conv.connections.begin(), conv.connections.end(), 0); free != conv.connections.end())
      *free = call.connection_id;
  conv.last_generation = generation_node;
  // A call that put a new user instruction on top of its history (not its first turn's): what a
  // summary request is, unlike the answer a run ends with.
  conv.last_asked_anew = conv.calls > 1 && !call.input.empty() && call.input.back().role == "user" &&
                         call.input.back().tool_calls.empty() &&
                         text_key(call.input.back().text) != conv.first_user_key;
  const std::string answer = final_text(call.output);
  const std::uint64_t carried = carried_key(answer);
  if (carried != conv.carried_key) {
    if (conv.carried_key != 0) by_carried_output_.erase(conv.carried_key, conv.id);
    conv.carried_key = carried;
    if (carried != 0) by_carried_output_.add(carried, conv.id);
  }
  const std::uint64_t out = text_key(answer);
  if (out != conv.output_key) {
    if (conv.output_key != 0) by_output_.erase(conv.output_key, conv.id);
    conv.output_key = out;
    if (out != 0) by_output_.add(out, conv.id);
  }
}

void TraceAssembler::forget_indexed(const Conversation& conv) {
  // A key of 0 was never indexed; erasing it finds nothing.
  by_user_content_.erase(conv.first_user_key, conv.id);
  for (std::uint64_t k : conv.user_keys) by_user_content_.erase(k, conv.id);
  by_output_.erase(conv.output_key, conv.id);
  by_carried_output_.erase(conv.carried_key, conv.id);
}

bool TraceAssembler::weak_nesting_allowed(const OpenTrace& child, TraceKey host) const {
  // A result carrying the run's final text is a hint only when every tool call that was open
  // when the run started belongs to one run: otherwise two users' sub-agents giving the same
  // answer could be grafted into each other's traces.
  for (const auto& p : child.potential_parents) {
    auto c = conversations_.find(p.conv);
    if (c != conversations_.end() && c->second->trace != host) return false;
  }
  return true;
}

void TraceAssembler::count_tokens(const ModelCall& call) {
  const auto keys = user_content_keys(call.input);
  if (keys.empty()) return;
  TraceKey found = 0;
  bool several = false;
  by_user_content_.for_each(keys.front(), [&](ConvId id) {
    const TraceKey t = conversations_.at(id)->trace;
    several = found != 0 && found != t;  // two runs have that turn: count it on neither
    found = t;
    return !several;
  });
  if (found != 0 && !several && traces_.at(found)->token_counts < UINT32_MAX) ++traces_.at(found)->token_counts;
}

void TraceAssembler::resolve_side_calls(OpenTrace& t) {
  if (t.token_counts > 0) t.tree.at(0).span.set("llmtap.token_count.calls", static_cast<std::int64_t>(t.token_counts));
  std::vector<Conversation*> convs;
  bool any_side = false;
  for (ConvId cid : t.conversations) {
    convs.push_back(conversations_.at(cid).get());
    any_side |= convs.back()->side.has_value();
  }
  if (!any_side) return;
  auto in_trace = [&](ConvId id) -> Conversation* {
    for (Conversation* c : convs)
      if (c->id == id) return c;
    return nullptr;
  };
  auto answered_by_output_check = [&](ConvId id) {
    for (const Conversation* c : convs)
      if (c->side && c->side->evidence == SideEvidence::kAnswersOutput && c->side->host == id) return true;
    return false;
  };
  // Which conversation of a shared user turn ran it: the one that went on, whose answer was
  // checked, whose call was cut when a guardrail tripped, that offered tools; then the earliest.
  auto main_score = [&](const Conversation& c) {
    return (c.calls > 1 ? 8 : 0) + (answered_by_output_check(c.id) ? 8 : 0) + (c.first_call_cut ? 4 : 0) +
           (c.offers_tools ? 2 : 0);
  };

  // The conversations of one user turn: linked by same-turn evidence, grouped by the one their
  // links lead to (the texts that matched may differ: a split turn, a history window).
  auto turn_root = [&](Conversation* c) {
    for (std::size_t hops = 0; hops < convs.size() && c->side && c->side->evidence == SideEvidence::kSameUserTurn;
         ++hops) {
      Conversation* h = in_trace(c->side->host);
      if (h == nullptr) break;
      c = h;
    }
    return c->id;
  };
  std::map<ConvId, std::vector<Conversation*>> turns;  // turn root -> its conversations
  auto add_to_turn = [&](Conversation* c, ConvId root) {
    auto& v = turns[root];
    if (std::find(v.begin(), v.end(), c) == v.end()) v.push_back(c);
  };
  for (Conversation* c : convs) {
    if (!c->side || c->side->evidence != SideEvidence::kSameUserTurn) continue;
    const ConvId root = turn_root(c);
    add_to_turn(c, root);
    if (Conversation* h = in_trace(c->side->host)) add_to_turn(h, root);
  }

  auto mark = [&](Conversation& side, SideRole role, Conversation* main) {
    for (int n : side.top_nodes) t.tree.at(n).span.set("llmtap.side_call.role", std::string(to_string(role)));
    if ((role != SideRole::kInputGuardrail && role != SideRole::kOutputGuardrail) || side.top_nodes.empty()) return;
    const SpanNode& agent = t.tree.at(side.top_nodes.front());
    // Under the agent it protects (the GenAI convention: a child of the operation it guards): the
    // one that took the turn (input), the one that gave the answer (output).
    const bool input = role == SideRole::kInputGuardrail;
    int protects = side.parent_node;
    if (main != nullptr && !main->top_nodes.empty()) protects = input ? main->top_nodes.front() : main->agent_node;
    SpanNode g = make_node(SpanKind::kGuardrail, agent.span.start_ns, protects, "GUARDRAIL");
    g.span.set("gen_ai.operation.name", std::string("apply_guardrail"));
    g.span.set("gen_ai.security.target.type", std::string(input ? "llm_input" : "llm_output"));
    g.agent().fp = agent.agent_fp();
    g.agent().fallback_name = agent.fallback_name();
    // Tripped: for an input guardrail, the agent's call on that turn was abandoned once the
    // guardrail had answered (cut mid-stream), or the run stopped at that call with its tool calls
    // never run; it went on past it: allowed. Otherwise (and always for an output guardrail, after
    // which the wire shows nothing) the guardrail agent's own verdict, when it gave one.
    const char* evidence = nullptr;
    std::optional<bool> tripped;
    if (input && main != nullptr && main->first_generation >= 0) {
      if (main->first_call_cut && t.tree.at(main->first_generation).span.end_ns >= side.first_call_end)
        evidence = "main_call_cut";
      else if (main->calls == 1 && !main->open_tools.empty())
        evidence = "run_stopped";
      if (evidence != nullptr) tripped = true;
      else if (main->calls > 1) tripped = false;
    }
    if (!tripped && main != nullptr) {
      tripped = guardrail_verdict_tripped(side.last_output_text.view());
      if (tripped.value_or(false)) evidence = "verdict";
    }
    if (tripped) {
      g.span.set("llmtap.guardrail.tripped", *tripped);
      g.span.set("gen_ai.security.decision.type", std::string(*tripped ? "deny" : "allow"));
    }
    if (tripped.value_or(false)) {
      g.span.set("llmtap.guardrail.tripped_evidence", std::string(evidence));
      const std::string why = input ? "input guardrail tripped" : "output guardrail tripped";
      // The call whose input (or answer) the guardrail rejected, and the agent that made it.
      if (input && main->first_generation >= 0)
        t.tree.at(main->first_generation).span.set("llmtap.call.abandoned_reason", why);
      const int agent = input ? (main->top_nodes.empty() ? -1 : main->top_nodes.front()) : main->agent_node;
      if (agent >= 0) {
        SpanNode& main_agent = t.tree.at(agent);
        main_agent.span.error = true;
        main_agent.span.status_message = why;
      }
    }
    const int wrapper = t.tree.add(std::move(g));
    for (int n : side.top_nodes) t.tree.at(n).parent = wrapper;
  };

  for (auto& [key, members] : turns) {
    Conversation* main = nullptr;
    for (Conversation* c : members) {
      if (main == nullptr) {
        main = c;
        continue;
      }
      const int a = main_score(*c), b = main_score(*main);
      if (a > b || (a == b && (c->first_call_start < main->first_call_start ||
                               (c->first_call_start == main->first_call_start && c->first_agent_fp.view() < main->first_agent_fp.view()))))
        main = c;
    }
    for (Conversation* c : members)
      if (c != main) mark(*c, side_call_role({{"user-agent", c->first_user_agent.str()}}, SideEvidence::kSameUserTurn), main);
  }
  for (Conversation* c : convs)
    if (c->side && c->side->evidence == SideEvidence::kAnswersOutput)
      mark(*c, side_call_role({{"user-agent", c->first_user_agent.str()}}, SideEvidence::kAnswersOutput), in_trace(c->side->host));
}

}  // namespace llmtap::trace
