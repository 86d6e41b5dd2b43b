#include "trace/run_evidence.h"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

#include "trace/conversation_items.h"
#include "trace/squeezed_hash.h"

namespace llmtap::trace {

namespace {

// Arguments larger than this are not searched (a sub-agent's prompt is a short string field).
constexpr std::size_t kMaxArgumentsScanned = 1 << 20;
// String values visited per arguments document, and nesting followed, so a huge or deep document
// cannot stall the collector or its stack.
constexpr int kMaxStringLeaves = 64;
constexpr int kMaxDepth = 32;

// Suffixes of a request's user content that are indexed (a router keeps the last few turns).
constexpr std::size_t kMaxUserSuffixes = 4;
// A suffix shorter than this ("yes", "continue") would match unrelated runs.
constexpr std::size_t kMinSuffixChars = 16;


bool is_user_text(const Message& m) { return m.role == "user" && m.tool_calls.empty() && !trim(m.text).empty(); }

void string_leaves(const nlohmann::json& j, std::vector<std::uint64_t>& out, int& budget, int depth = 0) {
  if (budget <= 0 || depth > kMaxDepth) return;
  if (j.is_string()) {
    --budget;
    if (auto k = text_key(j.get_ref<const std::string&>()); k != 0) out.push_back(k);
    return;
  }
  if (j.is_object() || j.is_array())
    for (const auto& v : j) string_leaves(v, out, budget, depth + 1);
}

}  // namespace

std::uint64_t text_key(std::string_view text) {
  SqueezedHash hash;
  if (hash.add_squeezed(text) == 0) return 0;
  const std::uint64_t h = hash.value();
  return h == 0 ? 1 : h;
}

std::vector<std::uint64_t> user_content_keys(const std::vector<Message>& input) {
  std::vector<std::size_t> users;
  for (std::size_t i = 0; i < input.size(); ++i)
    if (is_user_text(input[i])) users.push_back(i);
  std::vector<std::uint64_t> keys;
  if (users.empty()) return keys;
  // The whole, then the suffixes from each of the last user messages (the last one first).
  std::vector<std::size_t> starts = {users.front()};
  for (std::size_t k = 0; k < kMaxUserSuffixes && k < users.size(); ++k) {
    const std::size_t from = users[users.size() - 1 - k];
    if (from != users.front()) starts.push_back(from);
  }
  for (std::size_t s = 0; s < starts.size(); ++s) {
    SqueezedHash hash;  // the texts joined, as text_key() of their concatenation
    std::size_t chars = 0;
    for (std::size_t i : users)
      if (i >= starts[s]) chars += hash.add_squeezed(input[i].text);
    if (chars == 0 || (s > 0 && chars < kMinSuffixChars)) continue;
    std::uint64_t h = hash.value();
    if (h == 0) h = 1;
    if (std::find(keys.begin(), keys.end(), h) == keys.end()) keys.push_back(h);
  }
  return keys;
}

std::string_view first_user_text(const std::vector<Message>& input) {
  for (const auto& m : input)
    if (m.role == "user" && m.tool_calls.empty()) return trim(m.text);
  return {};
}

std::uint64_t first_user_key(const std::vector<Message>& input, const std::vector<std::uint64_t>& keys) {
  const std::string_view first = first_user_text(input);
  if (first.empty() || keys.empty()) return text_key(first);
  // FIRST is a user text (is_user_text): with no other, KEYS[0] folded exactly its text.
  const auto users = std::count_if(input.begin(), input.end(), is_user_text);
  return users == 1 ? keys.front() : text_key(first);
}

std::string final_text(const std::vector<Message>& output) {
  for (auto it = output.rbegin(); it != output.rend(); ++it)
    if (!trim(it->text).empty()) return std::string(trim(it->text));
  return {};
}

std::vector<std::uint64_t> argument_text_keys(std::string_view arguments) {
  std::vector<std::uint64_t> keys;
  if (auto whole = text_key(arguments); whole != 0) keys.push_back(whole);
  if (arguments.size() > kMaxArgumentsScanned) return keys;
  auto doc = nlohmann::json::parse(arguments.begin(), arguments.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return keys;
  int budget = kMaxStringLeaves;
  string_leaves(doc, keys, budget);
  return keys;
}

bool arguments_carry(std::string_view arguments, std::string_view text) {
  const std::uint64_t want = text_key(text);
  if (want == 0) return false;
  const auto keys = argument_text_keys(arguments);
  return std::find(keys.begin(), keys.end(), want) != keys.end();
}

namespace {

constexpr std::uint64_t kRollBase = 0x100000001b3ULL;

std::uint64_t roll_power() {
  std::uint64_t p = 1;
  for (std::size_t i = 1; i < kCarryWindow; ++i) p *= kRollBase;
  return p;
}

std::string without_space(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text)
    if (!is_squeezed_space(c)) out.push_back(c);
  return out;
}

}  // namespace

std::size_t text_chars(std::string_view text) {
  std::size_t n = 0;
  for (char c : text) n += is_squeezed_space(c) ? 0 : 1;
  return n;
}

std::uint64_t carried_key(std::string_view text) {
  std::uint64_t h = 0;
  std::size_t n = 0;
  for (char c : text) {
    if (is_squeezed_space(c)) continue;
    h = h * kRollBase + static_cast<unsigned char>(c);
    if (++n == kCarryWindow) return h == 0 ? 1 : h;
  }
  return 0;
}

bool find_carried_keys(std::string_view text, const std::function<bool(std::uint64_t)>& hit) {
  static const std::uint64_t top = roll_power();
  text = text.substr(0, kMaxCarryScan);
  std::string window;  // the current window's chars, as a ring
  window.resize(kCarryWindow);
  std::uint64_t h = 0;
  std::size_t n = 0;
  for (char c : text) {
    if (is_squeezed_space(c)) continue;
    const auto in = static_cast<unsigned char>(c);
    if (n >= kCarryWindow) h -= static_cast<unsigned char>(window[n % kCarryWindow]) * top;
    h = h * kRollBase + in;
    window[n % kCarryWindow] = c;
    if (++n >= kCarryWindow && hit(h == 0 ? 1 : h)) return true;
  }
  return false;
}

bool carries_text(std::string_view haystack, std::string_view needle) {
  const std::string n = without_space(needle);
  if (n.empty()) return false;
  return without_space(haystack.substr(0, kMaxCarryScan)).find(n) != std::string::npos;
}

namespace {

// A verdict is a short JSON object; longer answers are no verdict.
constexpr std::size_t kMaxVerdictChars = 16 * 1024;

// The verdict table: top-level boolean field names (lowercase, '-' and ' ' read as '_') and
// whether `true` means the guardrail tripped.
struct VerdictField {
  std::string_view name;
  bool true_trips;
};
constexpr VerdictField kVerdictFields[] = {
    {"flagged", true},  {"is_flagged", true},   {"tripped", true},    {"tripwire", true},
    {"tripwire_triggered", true}, {"triggered", true}, {"blocked", true}, {"block", true},
    {"violation", true}, {"is_violation", true}, {"violates_policy", true}, {"unsafe", true},
    {"is_unsafe", true}, {"harmful", true},     {"is_harmful", true}, {"leak", true},
    {"leaks", true},    {"contains_pii", true}, {"off_topic", true},  {"is_off_topic", true},
    {"jailbreak", true}, {"is_jailbreak", true},
    {"safe", false},    {"is_safe", false},     {"allowed", false},   {"is_allowed", false},
    {"allow", false},   {"pass", false},        {"passed", false},    {"approved", false},
    {"valid", false},   {"is_valid", false},    {"on_topic", false},  {"is_on_topic", false},
};

std::string field_name(std::string_view key) {
  std::string out(key);
  for (auto& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (c == '-' || c == ' ') c = '_';
  }
  return out;
}

// The JSON object an answer is, or is fenced in (```json ... ```).
std::string_view verdict_body(std::string_view answer) {
  answer = trim(answer);
  if (answer.substr(0, 3) == "```") {
    const auto nl = answer.find('\n');
    const auto close = answer.rfind("```");
    if (nl == std::string_view::npos || close <= nl) return {};
    answer = trim(answer.substr(nl + 1, close - nl - 1));
  }
  return answer.size() >= 2 && answer.front() == '{' && answer.back() == '}' ? answer : std::string_view{};
}

}  // namespace

std::optional<bool> guardrail_verdict_tripped(std::string_view answer) {
  if (answer.size() > kMaxVerdictChars) return std::nullopt;
  const std::string_view body = verdict_body(answer);
  if (body.empty()) return std::nullopt;
  auto doc = nlohmann::json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return std::nullopt;
  std::optional<bool> tripped;
  for (const auto& [key, value] : doc.items()) {
    if (!value.is_boolean()) continue;
    const std::string name = field_name(key);
    for (const auto& f : kVerdictFields) {
      if (f.name != name) continue;
      const bool says = value.get<bool>() == f.true_trips;
      if (tripped && *tripped != says) return std::nullopt;  // its fields disagree
      tripped = says;
    }
  }
  return tripped;
}

bool carries_output(std::string_view result, std::string_view output) {
  result = trim(result);
  output = trim(output);
  if (output.empty()) return false;
  if (result == output) return true;
  return output.size() >= 16 && result.find(output) != std::string_view::npos;
}

}  // namespace llmtap::trace
