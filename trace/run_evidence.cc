#include "trace/run_evidence.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "trace/conversation_items.h"

namespace llmtap::trace {

namespace {

// Arguments larger than this are not searched (a sub-agent's prompt is a short string field).
constexpr std::size_t kMaxArgumentsScanned = 1 << 20;
// String values visited per arguments document, and nesting followed, so a huge or deep document
// cannot stall the collector or its stack.
constexpr int kMaxStringLeaves = 64;
constexpr int kMaxDepth = 32;

bool is_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

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
  std::uint64_t h = 0xcbf29ce484222325ULL;
  bool any = false;
  for (char c : text) {
    if (is_space(c)) continue;
    any = true;
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return any ? (h == 0 ? 1 : h) : 0;
}

std::string_view first_user_text(const std::vector<Message>& input) {
  for (const auto& m : input)
    if (m.role == "user" && m.tool_calls.empty()) return trim(m.text);
  return {};
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

bool carries_output(std::string_view result, std::string_view output) {
  result = trim(result);
  output = trim(output);
  if (output.empty()) return false;
  if (result == output) return true;
  return output.size() >= 16 && result.find(output) != std::string_view::npos;
}

}  // namespace llmtap::trace
