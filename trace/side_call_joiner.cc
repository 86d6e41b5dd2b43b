#include "trace/side_call_joiner.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <string>

#include "common/ascii.h"

namespace llmtap::trace {

namespace {

constexpr UnixNanos kMs = 1'000'000;

// One kind of evidence: when it holds, and what it is worth.
struct EvidenceRule {
  SideEvidence evidence;
  bool needs_other_agent;    // the same agent on the same turn is another run, not a side call
  UnixNanos max_gap;         // same turn: the gap between the two first calls; answers: after the answer
  UnixNanos max_gap_same_source;  // the same, when one process or connection sent both
  UnixNanos close_within;    // earns the timing bonus ("tens of ms": started together)
  int score;
};

constexpr EvidenceRule kEvidenceRules[] = {
    // An input guardrail runs concurrently with the agent's first call; a router/classifier call
    // ends just before the main loop starts (seconds before it on a loaded machine, which only
    // the same process or connection makes safe to accept); a title call runs beside it.
    {SideEvidence::kSameUserTurn, true, 500 * kMs, 10'000 * kMs, 100 * kMs, 10},
    // An output guardrail checks the final answer right after it was complete.
    {SideEvidence::kAnswersOutput, false, 10'000 * kMs, 10'000 * kMs, 1'000 * kMs, 10},
};
constexpr int kTimingBonus = 5;
constexpr int kSameProcessBonus = 3;
constexpr int kMinScore = 10;

const EvidenceRule& rule_for(SideEvidence e) {
  for (const auto& r : kEvidenceRules)
    if (r.evidence == e) return r;
  return kEvidenceRules[0];
}

// Score of one candidate, 0 when the evidence does not hold.
int score(const SideCallFacts& call, const SideCallCandidate& c) {
  const EvidenceRule& r = rule_for(c.evidence);
  if (call.client_pid != 0 && c.client_pid != 0 && call.client_pid != c.client_pid) return 0;  // other process
  if (r.needs_other_agent && call.agent_fp == c.agent_fp) return 0;
  const bool same_source = c.shares_connection || (call.client_pid != 0 && call.client_pid == c.client_pid);
  const UnixNanos max_gap = same_source ? r.max_gap_same_source : r.max_gap;
  UnixNanos closeness = 0;
  if (c.evidence == SideEvidence::kSameUserTurn) {
    const UnixNanos gap = std::max(call.start, c.first_call_start) - std::min(call.end, c.first_call_end);
    if (gap > max_gap) return 0;
    closeness = call.start > c.first_call_start ? call.start - c.first_call_start : c.first_call_start - call.start;
  } else {
    // Sent after the answer was complete (a little slack: content end vs. the framing's last byte).
    if (call.start + 50 * kMs < c.last_response_end || call.start - c.last_response_end > max_gap) return 0;
    closeness = call.start > c.last_response_end ? call.start - c.last_response_end : 0;
  }
  int s = r.score;
  if (closeness <= r.close_within) s += kTimingBonus;
  if (same_source) s += kSameProcessBonus;
  return s;
}

// The client-specific part: which client sent a side call (the User-Agent's product and the
// start of its version), and what a call joined by each kind of evidence is for that client. A
// product matches its variants too ("GeminiCLI-tui/0.61.0" is GeminiCLI).
struct ClientRule {
  std::string_view product;         // lowercase
  std::string_view version_prefix;  // lowercase
  SideRole same_turn;
  SideRole answers_output;
};
constexpr ClientRule kClientRules[] = {
    {"agents", "javascript", SideRole::kInputGuardrail, SideRole::kOutputGuardrail},  // OpenAI Agents SDK (JS)
    {"agents", "python", SideRole::kInputGuardrail, SideRole::kOutputGuardrail},      // OpenAI Agents SDK (Python)
    {"geminicli", "", SideRole::kRouter, SideRole::kSideCall},                        // Gemini CLI's model router
    {"claude-cli", "", SideRole::kTitle, SideRole::kSideCall},                        // Claude Code's title call
};

bool matches(const ClientRule& r, std::string_view ua) {
  const auto slash = ua.find('/');
  if (slash == std::string_view::npos) return false;
  const std::string_view product = ua.substr(0, slash), version = ua.substr(slash + 1);
  const bool same_product =
      product == r.product || (product.size() > r.product.size() && product.substr(0, r.product.size()) == r.product &&
                               product[r.product.size()] == '-');
  return same_product && version.substr(0, r.version_prefix.size()) == r.version_prefix;
}

}  // namespace

std::string_view to_string(SideRole role) {
  switch (role) {
    case SideRole::kSideCall: return "side_call";
    case SideRole::kRouter: return "router";
    case SideRole::kTitle: return "title";
    case SideRole::kInputGuardrail: return "input_guardrail";
    case SideRole::kOutputGuardrail: return "output_guardrail";
    case SideRole::kCompaction: return "compaction";
  }
  return "side_call";
}

std::optional<SideCallChoice> choose_side_call_host(const SideCallFacts& call,
                                                    const std::vector<SideCallCandidate>& candidates) {
  // A trace where the call's own agent already took that user turn is another run's: two runs
  // asking the same thing share a turn, a run's side call never has its own agent's.
  std::set<std::uint64_t> taken;
  for (const auto& c : candidates)
    if (c.evidence == SideEvidence::kSameUserTurn && c.agent_fp == call.agent_fp) taken.insert(c.trace);
  // Best candidate per trace: conversations of one trace never tie against each other.
  std::map<std::uint64_t, SideCallChoice> best_by_trace;
  for (const auto& c : candidates) {
    if (taken.count(c.trace)) continue;
    const int s = score(call, c);
    if (s < kMinScore) continue;
    auto [it, fresh] = best_by_trace.try_emplace(c.trace, SideCallChoice{c.trace, c.conv, c.evidence, s});
    if (!fresh && s > it->second.score) it->second = SideCallChoice{c.trace, c.conv, c.evidence, s};
  }
  const SideCallChoice* best = nullptr;
  bool tied = false;
  for (const auto& [trace, choice] : best_by_trace) {
    if (best == nullptr || choice.score > best->score) {
      best = &choice;
      tied = false;
    } else if (choice.score == best->score) {
      tied = true;
    }
  }
  if (best == nullptr || tied) return std::nullopt;
  return *best;
}

SideRole side_call_role(const Headers& request_headers, SideEvidence evidence) {
  for (const auto& h : request_headers) {
    if (ascii_lower(h.name) != "user-agent") continue;
    const std::string ua = ascii_lower(h.value);
    for (const auto& r : kClientRules)
      if (matches(r, ua))
        return evidence == SideEvidence::kSameUserTurn ? r.same_turn : r.answers_output;
  }
  return SideRole::kSideCall;
}

}  // namespace llmtap::trace
