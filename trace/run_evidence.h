#pragma once
// What the wire says about which run a call serves, as text: a sub-agent's first user message
// that is verbatim its parent tool call's arguments, a tool result carrying a run's final text,
// a side call sharing its run's user turn. Pure functions, no state.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/model_call.h"

namespace llmtap::trace {

// A text compared the way conversation items are: without any whitespace (0: empty text).
std::uint64_t text_key(std::string_view text);

// The first user message's text (trimmed), "" when none.
std::string_view first_user_text(const std::vector<Message>& input);

// Keys of the user content a request carries (its user messages' texts, tool results aside,
// joined in order, compared as text_key does): [0] the whole, then each suffix that starts at one
// of its last user messages and is long enough (16+ chars) not to match by chance. A client may
// send one turn as two messages or merge them into one (Gemini CLI: its session context and the
// prompt), and a side call may carry only the latest turns (a router's history window): the joined
// text compares them alike. Empty when the request has no user text.
std::vector<std::uint64_t> user_content_keys(const std::vector<Message>& input);

// text_key(first_user_text(input)), given KEYS = user_content_keys(input): when the first user
// message is the only user text (most requests), that is KEYS[0], and the text is not folded again.
std::uint64_t first_user_key(const std::vector<Message>& input, const std::vector<std::uint64_t>& keys);

// The text a response ends with: the last non-empty assistant text of its output.
std::string final_text(const std::vector<Message>& output);

// The texts a tool call's arguments carry, as text_keys: the whole arguments, then each string
// value anywhere in their JSON (bounded), so a sub-agent's first message is matched without
// keeping or re-parsing the arguments.
std::vector<std::uint64_t> argument_text_keys(std::string_view arguments);

// Whether a tool call's arguments are `text` verbatim: the whole arguments, or one string value
// anywhere in their JSON (agent.asTool()'s {"input": ...}, an AI SDK tool's {"task": ...}).
// Compared without whitespace; empty text never matches.
bool arguments_carry(std::string_view arguments, std::string_view text);

// Text carried forward: a new conversation whose user content repeats a run's answer (a compacted
// history carrying the summary call's output). carried_key() keys an answer by its first
// kCarryWindow non-space chars (0: shorter, too short to be evidence); find_carried_keys() calls
// `hit` with the key of every window of that many non-space chars of TEXT (rolling, bounded to the
// first kMaxCarryScan bytes) until it returns true; carries_text() says whether HAYSTACK contains
// NEEDLE, both compared without whitespace.
inline constexpr std::size_t kCarryWindow = 64;
inline constexpr std::size_t kMaxCarryScan = 1 << 20;
std::uint64_t carried_key(std::string_view text);
bool find_carried_keys(std::string_view text, const std::function<bool(std::uint64_t)>& hit);
bool carries_text(std::string_view haystack, std::string_view needle);
// Non-space chars of TEXT.
std::size_t text_chars(std::string_view text);

// What a guardrail agent's answer says, when it is a JSON verdict object (possibly in a ```json
// fence) with a top-level boolean named by the verdict table: a tripping name ("flagged",
// "tripwire_triggered", "blocked", "violation", "unsafe", "leak", "off_topic", ...) true, or a
// passing one ("safe", "allowed", "passed", "approved", "valid", "on_topic", ...) false, means
// tripped. Nothing when the answer is no such verdict or its fields disagree.
std::optional<bool> guardrail_verdict_tripped(std::string_view answer);

// Whether a tool result carries a run's final output: equal after trimming, or containing it
// when it is long enough (16+ chars) not to match by chance.
bool carries_output(std::string_view result, std::string_view output);

}  // namespace llmtap::trace
