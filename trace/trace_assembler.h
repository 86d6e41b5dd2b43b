#pragma once
// The single-threaded core of TraceBuilder: matches each model call to a conversation, keeps
// agent/generation/tool/handoff spans of open traces, and returns traces as they close.
//
// Conversations are matched, in order, by:
//  1. previous_response_id naming a response seen before (the request then carries only new items);
//  2. the longest prefix of the request's items whose chained hash equals a state some earlier call
//     ended in (its input plus its output); a state that no later call has continued yet is
//     preferred, then one from the same connection, then the oldest;
//  3. a tool result answering a still-open tool call id;
//  4. a handoff whose input filter rewrote the history (Agents SDK handoff inputFilter): a request
//     of another agent whose first item is the first item of a conversation with an open
//     transfer_to_* call, preferring the same connection, then the latest transfer.
// Otherwise the call starts a new conversation: nested under the open tool call of one run whose
// arguments are its first user message (trace_assembler_join.cc), else in a new trace, which is
// merged into the run the evidence names when it was a side call of it (side_call_joiner.h).
//
// A state-only call (a Responses WebSocket prewarm, `generate: false`) makes no span: it only
// records the conversation after it under its response id, so the call naming it as
// previous_response_id continues those items (and, when it sends none, its instructions and tools). A request whose items only
// share the system prompt with an old run, or whose user turn differs, matches nothing: system
// messages are not items, and a state matches only as a whole prefix.
#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/model_call.h"
#include "common/span.h"
#include "pricing/cost.h"
#include "trace/boxed_optional.h"
#include "trace/compact_vector.h"
#include "trace/conversation_index.h"
#include "trace/continuation_index.h"
#include "trace/conversation_items.h"
#include "trace/elided_history.h"
#include "trace/shared_strings.h"
#include "trace/side_call_joiner.h"
#include "trace/flat_map.h"
#include "trace/history_digest.h"
#include "trace/open_trace_budget.h"
#include "trace/span_tree.h"
#include "trace/trace_options.h"

namespace llmtap::trace {

// The key of a response id in TraceAssembler's response map (the id itself is kept once, in its
// conversation's response_ids, which lookups check).
inline std::uint64_t response_key(std::string_view id) { return std::hash<std::string_view>{}(id); }

struct AnsweredTransfer;

class TraceAssembler {
 public:
  TraceAssembler(TraceOptions options, const Pricer* pricer);
  ~TraceAssembler();  // returns what the open traces charged to the memory budget
  TraceAssembler(const TraceAssembler&) = delete;
  TraceAssembler& operator=(const TraceAssembler&) = delete;

  void add(const ModelCall& call);
  // A token count (countTokens): no generation; counted on the run whose user turn it counts, if
  // exactly one open run has that turn.
  void count_tokens(const ModelCall& call);
  // At most MAX traces per call (the rest stay due for the next call), as close_all() below.
  std::vector<Trace> close_idle(UnixNanos now, std::size_t max = static_cast<std::size_t>(-1));
  // Closes every open trace, oldest first, at most MAX of them per call (the caller emits each
  // part before asking for the next, so a burst is not held as finished traces all at once).
  std::vector<Trace> close_all(std::size_t max = static_cast<std::size_t>(-1));
  std::size_t open_traces() const { return traces_.size(); }
  // Past the open-trace budget (TraceOptions::max_open_traces): closes the least recently active
  // traces until it holds again, their roots marked llmtap.trace.closed_early.
  std::vector<Trace> close_over_budget(std::size_t max = static_cast<std::size_t>(-1));
  OpenTraceBudget& budget() { return budget_; }
  ContinuationStats continuation_stats() const { return dormant_index_.stats(); }

 private:
  using ConvId = std::uint64_t;
  using TraceKey = std::uint64_t;

  struct OpenTool {
    std::string call_id;
    std::string name;
    int node = -1;
    UnixNanos start = 0;
    CompactVector<TraceKey> nested_candidates;  // traces started while this call was open
    int nested_runs = 0;                       // sub-agents nested under it by their arguments
    CompactVector<std::uint64_t> argument_keys;  // argument_text_keys(its arguments)
  };

  // How a conversation joined a trace it did not start, as a side call of another one.
  struct SideLink {
    ConvId host = 0;
    SideEvidence evidence = SideEvidence::kSameUserTurn;
  };

  struct Conversation {
    ConvId id = 0;
    TraceKey trace = 0;
    int parent_node = 0;  // where its agent spans go: the trace root, or a tool span once nested
    int agent_node = -1;
    CompactString agent_fp;
    CompactString agent_fallback;
    UnixNanos last_response_end = 0;
    CompactString last_output_text;
    CompactVector<OpenTool> open_tools;
    FlatMap<std::uint64_t, std::uint64_t> states;  // state hash -> its seq in states_ (to unregister)
    CompactVector<CompactString> response_ids;
    std::uint64_t first_item = 0;  // hash of its first item (0: none), for filtered handoffs
    std::uint64_t last_connection = 0;
    FlatMap<std::uint64_t, CompactString> output_agents;  // output item hash -> agent fingerprint

    // Evidence for nesting and side calls (trace_assembler_join.cc).
    int calls = 0;
    int last_generation = -1;        // node of its latest call
    UnixNanos first_call_start = 0, first_call_end = 0;
    int first_generation = -1;       // node of its first call
    bool first_call_cut = false;     // its first call ended incomplete (the client stopped reading)
    bool offers_tools = false;
    bool whole_is_first = true;      // its user content's whole key is first_user_key (else user_keys[0])
    bool last_asked_anew = false;    // its latest call ended in a new user instruction (a summary request)
    std::uint64_t first_user_key = 0;
    // user_content_keys() of its first request other than first_user_key, as indexed (most
    // requests have one user message: none).
    CompactVector<std::uint64_t> user_keys;
    std::array<std::uint64_t, 4> connections{};  // client connections its calls used (the first few; 0: none)
    std::uint64_t carried_key = 0;   // carried_key(last_output_text), as indexed
    CompactString first_agent_fp;    // the agent of its first call (agent_fp moves on with handoffs)
    std::uint64_t output_key = 0;    // text_key(last_output_text), as indexed
    std::uint64_t client_pid = 0;
    CompactString first_user_agent;  // its first request's User-Agent (what a side call is)
    CompactVector<int> top_nodes;    // its agent spans directly under parent_node
    BoxedOptional<SideLink> side;    // joined its trace as a side call of `side->host`
  };

  struct PotentialParent {
    ConvId conv;
    std::string call_id;
  };

  struct OpenTrace {
    TraceKey key = 0;
    SpanTree tree;
    CompactVector<ConvId> conversations;
    CompactString remote_trace_id, remote_parent_id;
    UnixNanos start = 0;
    UnixNanos last_activity = 0;
    CompactVector<PotentialParent> potential_parents;
    std::uint32_t token_counts = 0;  // countTokens calls counted on this run
    std::uint32_t charged_bytes = 0;  // what it charges to the memory budget (OpenTraceBudget::estimate)
  };

  struct StateRef {
    ConvId conv;
    std::uint64_t connection_id;
    bool continued = false;
  };
  // Conversations that ended in one state, keyed by registration order (oldest first). Many
  // conversations can share a state (the same first turn sent many times): adding and removing
  // one must not scan the others.
  using StateRefs = FlatMap<std::uint64_t, StateRef>;

  struct ResponseState {
    ConvId conv;
    HistoryDigest items;  // the conversation after that response
  };

  // A state-only call's conversation: where it continued (0: nowhere yet) and what it sent.
  struct PrewarmState {
    ConvId conv = 0;
    HistoryDigest items;  // the conversation after it
    std::string instructions;
    std::vector<ToolDef> tools;
  };

  // What ties an open trace to other traces and to its earlier parts (trace_continuation.cc), held
  // in linkage_ only by the traces that have any, so other open traces pay nothing for it.
  struct TraceLinkage {
    int part = 1;  // 2+: a closed trace that a late call continued
    std::vector<std::pair<std::string, NodeTotals>> carried;  // span id -> what earlier parts rolled up into it
    std::vector<SpanLink> root_links;                          // the closed trace a new turn continues
    std::vector<std::pair<std::string, SpanLink>> span_links;  // span id -> a caller span it links (traceparent)
    std::string inherited_conversation_id;                     // gen_ai.conversation.id of the linked trace
  };

  // A closed trace kept for late calls (trace_continuation.cc): the spans a continuation re-emits
  // (root, the agents and tools its conversations hang under, open tool calls: a skeleton, node
  // indices into `skeleton`) and its conversations.
  struct DormantRun {
    std::string trace_id, remote_parent_id, root_span_id, conversation_id;
    TraceLinkage linkage;
    SpanTree skeleton;
    std::vector<int> source_nodes;  // skeleton node i was node source_nodes[i] of the trace
    std::vector<Conversation> conversations;
    std::vector<std::pair<std::string, ResponseState>> responses;
    std::vector<std::pair<std::string, ConvId>> open_calls;
    std::vector<std::pair<ConvId, std::string>> wire_ids;  // Responses conversation ids they named
  };
  struct PendingLink {
    std::string trace_id, span_id, conversation_id;
  };

  struct Match {
    Conversation* conv = nullptr;
    HistoryDigest base;  // items before the request's own (previous_response_id)
    std::size_t new_from = 0;                // request items from here on are new
    std::string filtered_transfer;           // open transfer call a filtered handoff consumed
  };

  Match match(const ModelCall& call, const std::vector<ConversationItem>& items,
              const std::vector<std::uint64_t>& prefix, bool ids_stable, const std::string& fp);
  Conversation& start_conversation(const ModelCall& call, const std::string& fp);
  // trace_assembler_join.cc: where a new conversation goes when no item continues another.
  Conversation* join_existing_run(const ModelCall& call, const std::string& fp);
  Conversation* nest_by_arguments(const ModelCall& call, std::string_view first_user);
  Conversation* continue_after_compaction(const ModelCall& call, const std::string& fp);
  void mark_compaction(Conversation& host, const std::string& fp);
  std::vector<SideCallCandidate> side_call_candidates(const Conversation& conv) const;
  void resolve_pending_side_calls(UnixNanos now, bool all);
  void graft_trace(TraceKey child, TraceKey host, int parent_node);
  Conversation& add_conversation(OpenTrace& t, int parent_node);
  void note_call(Conversation& conv, const ModelCall& call, int generation_node);
  void forget_indexed(const Conversation& conv);
  void resolve_side_calls(OpenTrace& t);
  bool weak_nesting_allowed(const OpenTrace& child, TraceKey host) const;
  void add_state_only(const ModelCall& call, bool ids_stable, const std::vector<ConversationItem>& req_items);
  const PrewarmState* prewarm_continued(const ModelCall& call) const;
  void answer_tools(Conversation& conv, const ModelCall& call, const std::vector<std::size_t>& result_msgs,
                    bool ids_stable, AnsweredTransfer* transfer);
  void take_filtered_transfer(Conversation& conv, const ModelCall& call, const std::string& call_id,
                              AnsweredTransfer* transfer);
  void try_nest(Conversation& parent, const OpenTool& tool, const std::string& result_text,
                UnixNanos result_time);
  void switch_agent(Conversation& conv, const ModelCall& call, const std::string& fp,
                    const std::string& instructions, const AnsweredTransfer& transfer);
  void open_agent(Conversation& conv, UnixNanos start, const std::string& fp, const std::string& instructions);
  const ResponseState* find_response(std::string_view id) const;
  void forget_response(std::string_view id, ConvId conv);
  void register_states(Conversation& conv, const ModelCall& call, HistoryDigest state, bool ids_stable);
  void forget_oldest_state(Conversation& conv);
  void remember_output_agent(Conversation& conv, const ModelCall& call, bool ids_stable);
  void learn_wire_names(const Conversation& conv, const ModelCall& call, const std::vector<ConversationItem>& items);
  void find_client_transfer(const Conversation& conv, const ModelCall& call,
                            const std::vector<ConversationItem>& items, std::size_t new_from,
                            AnsweredTransfer* transfer);
  void touched(OpenTrace& t);
  void forget_charge(OpenTrace& t);
  bool deferred(const OpenTrace& t) const;
  UnixNanos activity(const OpenTrace& t) const;
  Trace finish(TraceKey key);
  const OpenTool* find_open_tool(const PotentialParent& p) const;
  // trace_continuation.cc
  DormantRun plan_dormant(const OpenTrace& t) const;
  void keep_dormant(DormantRun d, TraceLinkage linkage, Trace& out, const std::vector<NodeTotals>& totals);
  bool resume_dormant(const ModelCall& call, const ConversationItems& req, bool ids_stable);
  void revive(DormantRun d, UnixNanos now);
  void adopt_pending_link(const Conversation& conv);
  void link_caller_span(const OpenTrace& t, const OpenSpan& generation, const std::string& trace_id,
                        const std::string& span_id);
  TraceLinkage take_linkage(TraceKey key);
  void merge_linkage(TraceKey from, TraceKey into);
  std::vector<std::pair<int, NodeTotals>> carried_nodes(const SpanTree& tree, const TraceLinkage& linkage) const;
  void note_wire_conversation(const Conversation& conv, const ModelCall& call);
  void forget_wire_conversation(ConvId conv);
  Conversation* by_wire_conversation(const ModelCall& call);

  TraceOptions options_;
  const Pricer* pricer_;
  OpenTraceBudget budget_;
  std::uint64_t next_id_ = 1;
  std::uint64_t next_seq_ = 1;
  std::unordered_map<TraceKey, std::unique_ptr<OpenTrace>> traces_;
  // close_idle() looks only at traces that may be due, not at every open trace on every tick:
  // (last_activity, trace) as it was when set, oldest on top (stale entries are skipped), and the
  // traces found idle that are still held (deferred, nested work) or oversized.
  std::priority_queue<std::pair<UnixNanos, TraceKey>, std::vector<std::pair<UnixNanos, TraceKey>>,
                      std::greater<>>
      activity_queue_;
  std::set<TraceKey> due_candidates_;
  // close_all()'s order, taken once for all its parts (listing every open trace for each part of a
  // burst made closing N traces cost N * N / part), consumed from closing_at_; a key no longer open
  // is skipped, and traces opened meanwhile are listed once this one is used up.
  std::vector<TraceKey> closing_order_;
  std::size_t closing_at_ = 0;
  std::unordered_map<ConvId, std::unique_ptr<Conversation>> conversations_;
  std::unordered_map<std::uint64_t, StateRefs> states_;
  // By the hash of the response id (the id itself is kept once, in its conversation's
  // response_ids, which find_response() checks).
  std::unordered_map<std::uint64_t, ResponseState> responses_;
  std::unordered_map<std::string, PrewarmState> prewarms_;  // by response id, bounded
  std::deque<std::string> prewarm_order_;                   // oldest first, for the bound
  std::unordered_map<std::string, ConvId> open_calls_;
  std::set<ConvId> with_open_tools_;  // conversations with open tool calls (nesting candidates)
  std::unordered_map<std::string, std::string> handoff_names_;  // agent fingerprint -> name a transfer gave
  std::unordered_map<std::string, std::string> wire_names_;     // agent fingerprint -> name on the wire
  // Open conversations by the user content of their first request (user_keys), by text_key of
  // their last answer and by its carried_key, for side-call evidence without scanning every open
  // conversation.
  ConversationIndex by_user_content_;
  ConversationIndex by_output_;
  ConversationIndex by_carried_output_;
  // Traces whose first conversation may be a side call of another run: decided once every call
  // the evidence window can hold has arrived (resolve_pending_side_calls), so the arrival order
  // of concurrent calls does not decide.
  std::set<TraceKey> side_pending_;
  // Continuations (trace_continuation.cc): linkage of the open traces that have any, Responses
  // conversation ids both ways (only for conversations that named one), closed traces kept for
  // late calls, and the link a new turn's trace is to carry (set by resume_dormant).
  std::unordered_map<TraceKey, TraceLinkage> linkage_;
  std::unordered_map<std::string, ConvId> wire_conversations_;
  std::unordered_map<ConvId, std::string> wire_ids_;
  ContinuationIndex dormant_index_;
  std::unordered_map<ContinuationIndex::EntryId, DormantRun> dormant_runs_;
  PendingLink pending_link_;
  ElidedHistories elided_;  // request-prefix elision: the latest input digest of each conversation
  SharedStrings shared_strings_;  // agent fingerprints and names, span names: shared by open traces
};

}  // namespace llmtap::trace
