#pragma once
// Side calls: model calls that serve a run without continuing its conversation (an input
// guardrail checking the user's turn while the agent answers it, an output guardrail checking
// the final answer, a router/classifier call before the main loop, a title call). Nothing in
// their items continues the run's, so they would start traces of their own; the evidence the
// wire gives joins them to the run: a shared user turn at the same time, an input that is the
// run's final answer, the same client process or keep-alive connection (which widens the time a
// router may take before the main loop starts: a loaded machine delays the client, not the wire).
//
// choose_side_call_host() scores every candidate conversation by a small table of evidence rules
// and picks the best open trace. A trace where the call's own agent already took that user turn
// is another run's. Tie rule: when the best score is shared by two traces (two concurrent runs
// both fit), the call joins neither. What a joined call *is* (guardrail, router,
// title, plain side call) depends on the client, a small table keyed by its User-Agent
// (side_call_role()).
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/model_call.h"

namespace llmtap::trace {

enum class SideEvidence {
  kSameUserTurn,   // same first user message, other agent, first calls overlapping or adjacent
  kAnswersOutput,  // its first user message is the host's final answer, sent after it
};

enum class SideRole { kSideCall, kRouter, kTitle, kInputGuardrail, kOutputGuardrail, kCompaction };
std::string_view to_string(SideRole role);

// What a new call shows (its first request).
struct SideCallFacts {
  std::string_view agent_fp;
  UnixNanos start = 0;
  UnixNanos end = 0;
  std::uint64_t client_pid = 0;  // 0: unknown
};

// A conversation of an open trace that an index found for the call, and by which evidence.
struct SideCallCandidate {
  std::uint64_t trace = 0;
  std::uint64_t conv = 0;
  SideEvidence evidence = SideEvidence::kSameUserTurn;
  std::string_view agent_fp;
  UnixNanos first_call_start = 0;
  UnixNanos first_call_end = 0;
  UnixNanos last_response_end = 0;  // when its final answer was complete (kAnswersOutput)
  std::uint64_t client_pid = 0;
  bool shares_connection = false;  // it and the call used one client connection (one process)
};

struct SideCallChoice {
  std::uint64_t trace = 0;
  std::uint64_t conv = 0;
  SideEvidence evidence = SideEvidence::kSameUserTurn;
  int score = 0;
};

// The trace (and conversation in it) the call serves, or nothing when no candidate qualifies or
// the best score is shared by two traces.
std::optional<SideCallChoice> choose_side_call_host(const SideCallFacts& call,
                                                    const std::vector<SideCallCandidate>& candidates);

// What a side call is, by its client (User-Agent) and the evidence that joined it.
SideRole side_call_role(const Headers& request_headers, SideEvidence evidence);

}  // namespace llmtap::trace
