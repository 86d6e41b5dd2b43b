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

#include "trace/agent_identity.h"
#include "trace/run_evidence.h"
#include "trace/trace_assembler.h"

namespace llmtap::trace {

namespace {

// Candidates looked at per side call (a turn many open runs share is ambiguous anyway).
constexpr std::size_t kMaxSideCandidates = 256;
// Past the widest evidence window (answers within 10 s), every call a side call could be judged
// against has arrived.
constexpr UnixNanos kSideCallSettle = 12'000'000'000;

void erase_entry(std::unordered_multimap<std::uint64_t, std::uint64_t>& index, std::uint64_t key, std::uint64_t conv) {
  if (key == 0) return;
  auto [b, e] = index.equal_range(key);
  for (auto it = b; it != e; ++it)
    if (it->second == conv) {
      index.erase(it);
      return;
    }
}

}  // namespace

TraceAssembler::Conversation* TraceAssembler::join_existing_run(const ModelCall& call, const std::string& fp) {
  (void)fp;
  const std::string_view first_user = first_user_text(call.input);
  if (first_user.empty()) return nullptr;
  return nest_by_arguments(call, first_user);
}

TraceAssembler::Conversation* TraceAssembler::nest_by_arguments(const ModelCall& call, std::string_view first_user) {
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
  auto collect = [&](const std::unordered_multimap<std::uint64_t, ConvId>& index, SideEvidence evidence) {
    auto [b, e] = index.equal_range(conv.first_user_key);
    for (auto it = b; it != e && out.size() < kMaxSideCandidates; ++it) {
      const Conversation& c = *conversations_.at(it->second);
      if (c.trace == conv.trace) continue;
      out.push_back({c.trace, c.id, evidence, c.first_agent_fp.view(), c.first_call_start, c.first_call_end,
                     c.last_response_end, c.client_pid});
    }
  };
  if (conv.first_user_key == 0) return out;
  collect(by_first_user_, SideEvidence::kSameUserTurn);
  collect(by_output_, SideEvidence::kAnswersOutput);
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
    conv.first_user_key = text_key(first_user_text(call.input));
    conv.first_agent_fp = conv.agent_fp;
    // A trace's first conversation that shares its turn or its input with another run's may be a
    // side call of it (or the run the other one serves): decided later, with all the evidence.
    const OpenTrace& t = *traces_.at(conv.trace);
    if (conv.parent_node == 0 && t.conversations.front() == conv.id && !side_call_candidates(conv).empty())
      side_pending_.insert(conv.trace);
    if (conv.first_user_key != 0) by_first_user_.emplace(conv.first_user_key, conv.id);
  }
  const std::uint64_t out = text_key(final_text(call.output));
  if (out != conv.output_key) {
    erase_entry(by_output_, conv.output_key, conv.id);
    conv.output_key = out;
    if (out != 0) by_output_.emplace(out, conv.id);
  }
}

void TraceAssembler::forget_indexed(const Conversation& conv) {
  erase_entry(by_first_user_, conv.first_user_key, conv.id);
  erase_entry(by_output_, conv.output_key, conv.id);
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
  const std::uint64_t key = text_key(first_user_text(call.input));
  if (key == 0) return;
  TraceKey found = 0;
  auto [b, e] = by_first_user_.equal_range(key);
  for (auto it = b; it != e; ++it) {
    const TraceKey t = conversations_.at(it->second)->trace;
    if (found != 0 && found != t) return;  // two runs have that turn: count it on neither
    found = t;
  }
  if (found != 0) ++traces_.at(found)->token_counts;
}

void TraceAssembler::resolve_side_calls(OpenTrace& t) {
  if (t.token_counts > 0) t.tree.at(0).span.set("llmtap.token_count.calls", t.token_counts);
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

  std::map<std::uint64_t, std::vector<Conversation*>> turns;  // first user key -> its conversations
  auto add_to_turn = [&](Conversation* c) {
    auto& v = turns[c->first_user_key];
    if (std::find(v.begin(), v.end(), c) == v.end()) v.push_back(c);
  };
  for (Conversation* c : convs) {
    if (!c->side || c->side->evidence != SideEvidence::kSameUserTurn) continue;
    add_to_turn(c);
    if (Conversation* h = in_trace(c->side->host)) add_to_turn(h);
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
    g.agent_fp = agent.agent_fp;
    g.fallback_name = agent.fallback_name;
    if (input && main != nullptr && main->first_generation >= 0) {
      // Tripped: the agent's call on that turn was abandoned once the guardrail had answered
      // (cut mid-stream), or the run stopped at that call with its tool calls never run.
      const char* evidence = nullptr;
      if (main->first_call_cut && t.tree.at(main->first_generation).span.end_ns >= side.first_call_end)
        evidence = "main_call_cut";
      else if (main->calls == 1 && !main->open_tools.empty())
        evidence = "run_stopped";
      if (evidence != nullptr) {
        g.span.set("llmtap.guardrail.tripped", true);
        g.span.set("llmtap.guardrail.tripped_evidence", std::string(evidence));
        g.span.set("gen_ai.security.decision.type", std::string("deny"));
        SpanNode& gen = t.tree.at(main->first_generation);
        gen.span.set("llmtap.call.abandoned_reason", std::string("input guardrail tripped"));
        if (!main->top_nodes.empty()) {
          SpanNode& main_agent = t.tree.at(main->top_nodes.front());
          main_agent.span.error = true;
          main_agent.span.status_message = "input guardrail tripped";
        }
      } else if (main->calls > 1) {
        g.span.set("llmtap.guardrail.tripped", false);
        g.span.set("gen_ai.security.decision.type", std::string("allow"));
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
