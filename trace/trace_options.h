#pragma once
// Configuration of trace reconstruction: trace identity (workflow name, group id, metadata),
// content capture, idle timeout and user rules that name agents.
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/memory_budget.h"
#include "common/safe_regex.h"

namespace llmtap {

// A user rule: when an agent's instructions match `pattern`, the agent is called `name`.
struct AgentNameRule {
  std::string pattern;  // RE2 syntax, matched case-insensitively anywhere in the instructions
  std::shared_ptr<const re2::RE2> regex;
  std::string name;
};

// Builds a rule; false with `error` set when the pattern does not compile.
bool make_agent_name_rule(const std::string& pattern, const std::string& name, AgentNameRule& out,
                          std::string& error);

// Parses a mapping document: either {"<regex>": "<name>", ...} or [{"pattern": "...", "name": "..."}].
// Rules keep the document's order; the first match wins.
bool parse_agent_name_rules(const std::string& json_text, std::vector<AgentNameRule>& out,
                            std::string& error);
// Reads and parses a mapping file; `error` names the file and what is wrong with it.
bool load_agent_name_rules_file(const std::string& path, std::vector<AgentNameRule>& out,
                                std::string& error);

struct TraceOptions {
  // A model call reaches trace/ only once its response has ended, so a trace looks idle while
  // its next call is in flight: the timeout must exceed the slowest model call of a run.
  static constexpr UnixNanos kDefaultIdleTimeoutNs = 30'000'000'000;  // 30 s

  UnixNanos idle_timeout_ns = kDefaultIdleTimeoutNs;
  // Memory budget of open traces (--max-open-traces): past it the least recently active traces
  // close early (exported with llmtap.trace.closed_early), never dropped. See open_trace_budget.h.
  static constexpr std::size_t kDefaultMaxOpenTraces = 50000;
  std::size_t max_open_traces = kDefaultMaxOpenTraces;
  // The pipeline's shared byte budget (--memory-budget-mb), or null: open traces and the
  // closed-trace index charge their estimated bytes to it, and past its soft limit the least
  // recently active traces close early as above.
  std::shared_ptr<MemoryBudget> memory_budget;
  std::string workflow_name;                   // LLMTAP_WORKFLOW_NAME
  std::string group_id;                        // LLMTAP_GROUP_ID -> gen_ai.conversation.id
  std::map<std::string, std::string> metadata; // LLMTAP_METADATA (JSON object or k=v,...) -> llmtap.metadata.*
  std::string release;                         // service.version in OTEL_RESOURCE_ATTRIBUTES -> llmtap.release
  std::string user_id_salt;                    // key of the user-id hash (the data directory's salt)
  bool raw_user_ids = false;                   // --raw-user-ids: record user ids as sent
  bool capture_content = false;                // OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT
  std::vector<AgentNameRule> agent_name_rules;
  std::string process_name;                    // workflow name when LLMTAP_WORKFLOW_NAME is unset
  // Closed traces whose continuation keys are kept (trace/continuation_index.h), so a late call
  // (an approval, a slow tool, a new turn) still finds its run: at most this many, and about this
  // many bytes; the least recently used are dropped first (TraceBuilderStats::continuations_evicted).
  std::size_t continuation_max_traces = 4096;
  std::size_t continuation_max_bytes = 32u << 20;

  // The workflow name a trace carries: workflow_name, else process_name, else "llmtap".
  std::string effective_workflow_name() const;

  // Reads the LLMTAP_* and OTEL_* variables above through `getenv` (injectable for tests).
  // Problems (bad LLMTAP_METADATA JSON) are appended to `warnings`; the rest still applies.
  static TraceOptions from_env(const std::function<const char*(const char*)>& getenv,
                               std::vector<std::string>* warnings = nullptr);
  static TraceOptions from_env(std::vector<std::string>* warnings = nullptr);
};

// Parses an LLMTAP_METADATA value: a JSON object (non-string values are kept as compact JSON), or
// "k=v,k2=v2" with percent-encoded parts (as OTEL_RESOURCE_ATTRIBUTES).
bool parse_metadata_json(const std::string& text, std::map<std::string, std::string>& out,
                         std::string& error);

}  // namespace llmtap
