#pragma once
// User-supplied regular expressions (agent-name rules, pricing patterns, redaction patterns) run
// over untrusted wire data, so they are RE2: matching is linear in the input and each pattern's
// automata live within a fixed memory budget. Backtracking engines (std::regex) recurse per
// character and blow the stack on one long prompt, or take exponential time on `(a|aa)+$`.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <re2/re2.h>

namespace llmtap {

struct RegexOptions {
  // Per-pattern budget for RE2's compiled program and DFA caches. When a DFA fills its cache RE2
  // falls back to its NFA: still linear, only slower. Patterns too big to compile are refused.
  static constexpr std::int64_t kDefaultMaxMem = 8 << 20;

  bool case_insensitive = false;
  std::int64_t max_mem = kDefaultMaxMem;
};

// The RE2::Options every llmtap pattern compiles with (UTF-8, no logging to stderr, max_mem).
re2::RE2::Options re2_options(const RegexOptions& options);

// Compiles `pattern`; nullptr with `error` = "invalid regular expression '<pattern>': <why>" when
// RE2 refuses it (syntax, backreferences and lookaround, which RE2 does not support, or size).
std::shared_ptr<const re2::RE2> compile_regex(std::string_view pattern, const RegexOptions& options,
                                              std::string* error);

}  // namespace llmtap
