#include "trace/agent_identity.h"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

#include "common/ascii.h"
#include "trace/conversation_items.h"
#include "trace/hex64.h"
#include "trace/volatile_tokens.h"

namespace llmtap::trace {

std::string effective_instructions(const ModelCall& call) {
  if (!call.system_instructions.empty()) return call.system_instructions;
  std::string out;
  for (const auto& m : call.input) {
    if (m.role != "system" && m.role != "developer") continue;
    if (!out.empty()) out += '\n';
    out += m.text;
  }
  return out;
}

std::string agent_fingerprint(const std::string& instructions, const std::vector<ToolDef>& tools) {
  std::vector<std::string> names;
  names.reserve(tools.size());
  for (const auto& t : tools) names.push_back(t.name);
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  // The stable part only: a checksum, date or request id stamped per request is the same agent.
  std::uint64_t h = fnv1a64(mask_volatile_tokens(trim(instructions)));
  for (const auto& n : names) {
    h = fnv1a64(std::string_view("\0", 1), h);
    h = fnv1a64(n, h);
  }
  return hex64(h);
}

namespace {

// Words after `pos` up to the end of the clause (punctuation or newline), at most `max`.
std::vector<std::string> clause_words(const std::string& text, std::size_t pos, std::size_t max) {
  std::vector<std::string> words;
  std::string cur;
  for (std::size_t i = pos; i < text.size() && words.size() < max; ++i) {
    char c = text[i];
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '\'') {
      cur += c;
      continue;
    }
    if (!cur.empty()) words.push_back(std::move(cur)), cur.clear();
    if (c != ' ' && c != '\t') break;  // clause ends at punctuation or newline
  }
  if (!cur.empty() && words.size() < max) words.push_back(cur);
  return words;
}

bool is_acronym(const std::string& w) {
  return w.size() >= 2 && std::all_of(w.begin(), w.end(), [](char c) { return std::isupper(static_cast<unsigned char>(c)); });
}

// Each word capitalized; a word written in capitals (ORIGINAL, the same words as written) stays so: "AI".
std::string title_case(const std::vector<std::string>& words, const std::vector<std::string>& original) {
  std::string out;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (!out.empty()) out += ' ';
    std::string t = i < original.size() && is_acronym(original[i]) ? original[i] : words[i];
    t[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(t[0])));
    out += t;
  }
  return out;
}

}  // namespace

std::string derived_agent_name(std::string_view instructions, std::string_view fingerprint) {
  const std::string text = ascii_lower(instructions);
  std::string proper_name;  // "You are Claude Code, ..." when no phrase names a role
  static const char* kRoleWords[] = {"agent", "assistant", "bot", "specialist", "expert", "ai"};
  for (std::size_t pos = text.find("you are "); pos != std::string::npos;
       pos = text.find("you are ", pos + 1)) {
    auto words = clause_words(text, pos + 8, 7);
    std::size_t first = 0;
    if (first < words.size() && (words[first] == "a" || words[first] == "an" || words[first] == "the"))
      ++first;
    if (first < words.size() && words[first] == "part") continue;  // "you are part of ..."
    // The last role word within four words: "an expert travel assistant" names the assistant.
    std::size_t end = 0;
    for (std::size_t i = first; i < words.size() && i < first + 4; ++i)
      for (const char* r : kRoleWords)
        if (words[i] == r) end = i + 1;
    if (end > 0) {
      // TEXT is INSTRUCTIONS lowercased, so the same position gives the words as written.
      auto original = clause_words(std::string(instructions), pos + 8, 7);
      return title_case({words.begin() + first, words.begin() + end},
                        {original.begin() + std::min(first, original.size()), original.end()});
    }
    if (proper_name.empty() && first == 0) {
      // Capitalized words right after "You are" (checked in the original text) name the agent.
      auto original = clause_words(std::string(instructions), pos + 8, 3);
      std::vector<std::string> caps;
      for (const auto& w : original) {
        if (!std::isupper(static_cast<unsigned char>(w[0]))) break;
        caps.push_back(w);
      }
      if (!caps.empty()) {
        for (const auto& w : caps) proper_name += (proper_name.empty() ? "" : " ") + w;
      }
    }
  }
  if (!proper_name.empty()) return proper_name;
  return "Agent " + std::string(fingerprint.substr(0, 6));
}

std::optional<std::string> rule_agent_name(const std::vector<AgentNameRule>& rules,
                                           const std::string& instructions) {
  for (const auto& r : rules)
    if (r.regex && re2::RE2::PartialMatch(instructions, *r.regex)) return r.name;
  return std::nullopt;
}

namespace {
constexpr std::string_view kTransferTo = "transfer_to_";
constexpr std::string_view kTransferBackTo = "transfer_back_to_";

// Length of the transfer prefix of TOOL_NAME (0: not a transfer tool), and whether it is the way back.
std::size_t transfer_prefix(std::string_view tool_name, bool* back = nullptr) {
  for (auto p : {kTransferBackTo, kTransferTo})
    if (tool_name.size() > p.size() && tool_name.substr(0, p.size()) == p) {
      if (back) *back = p == kTransferBackTo;
      return p.size();
    }
  return 0;
}
}  // namespace

bool is_transfer_tool(std::string_view tool_name) { return transfer_prefix(tool_name) != 0; }

bool transfer_tool_targets(std::string_view tool_name, std::string_view agent_name) {
  const std::size_t prefix = transfer_prefix(tool_name);
  if (prefix == 0) return false;
  auto suffix = tool_name.substr(prefix);
  if (suffix.size() != agent_name.size()) return false;
  for (std::size_t i = 0; i < suffix.size(); ++i) {
    unsigned char a = static_cast<unsigned char>(agent_name[i]);
    char expected = std::isalnum(a) ? static_cast<char>(std::tolower(a)) : '_';
    if (static_cast<char>(std::tolower(static_cast<unsigned char>(suffix[i]))) != expected) return false;
  }
  return true;
}

std::string transfer_tool_target(std::string_view tool_name) {
  bool back = false;
  const std::size_t prefix = transfer_prefix(tool_name, &back);
  std::string out(tool_name.substr(prefix));
  if (back) return out;
  std::replace(out.begin(), out.end(), '_', ' ');
  return std::string(trim(out));
}

std::optional<std::string> transfer_result_target(std::string_view result_text) {
  auto t = trim(result_text);
  if (t.empty() || t.front() != '{') return std::nullopt;
  auto doc = nlohmann::json::parse(t, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || doc.size() != 1) return std::nullopt;
  auto it = doc.find("assistant");
  if (it == doc.end() || !it->is_string() || it->get<std::string>().empty()) return std::nullopt;
  return it->get<std::string>();
}

namespace {

// The fixed texts frameworks write as a tool's result when it failed or was refused.
struct ToolErrorShape {
  std::string_view prefix;    // the result starts with this
  std::string_view contains;  // and, if set, also contains this
  bool rejected;
};
constexpr ToolErrorShape kToolErrorShapes[] = {
    {"An error occurred while running the tool", "", false},  // OpenAI Agents SDK (JS and Python)
    {"Error: ", "Please fix your mistakes.", false},          // LangGraph ToolNode
    {"Tool execution was not approved", "", true},            // Agents SDK: approval rejected
};

bool json_error_object(std::string_view t) {
  if (t.empty() || t.front() != '{') return false;
  auto doc = nlohmann::json::parse(t, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return false;
  auto it = doc.find("error");
  if (it == doc.end()) return false;
  if (it->is_null()) return false;
  if (it->is_boolean()) return it->get<bool>();
  if (it->is_string()) return !it->get<std::string>().empty();
  return true;
}

}  // namespace

ToolOutcome tool_result_outcome(const Message& result) {
  ToolOutcome out;
  out.error = result.is_error;
  auto t = trim(result.text);
  for (const auto& shape : kToolErrorShapes) {
    if (t.substr(0, shape.prefix.size()) != shape.prefix) continue;
    if (!shape.contains.empty() && t.find(shape.contains) == std::string_view::npos) continue;
    out.error = true;
    out.rejected = shape.rejected;
    return out;
  }
  out.error = out.error || json_error_object(t);
  return out;
}

}  // namespace llmtap::trace
