#include "trace/trace_options.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/key_value_list.h"

namespace llmtap {

bool make_agent_name_rule(const std::string& pattern, const std::string& name, AgentNameRule& out,
                          std::string& error) {
  if (name.empty()) {
    error = "empty agent name for pattern '" + pattern + "'";
    return false;
  }
  out.regex = compile_regex(pattern, {.case_insensitive = true}, &error);
  if (!out.regex) return false;
  out.pattern = pattern;
  out.name = name;
  return true;
}

bool parse_agent_name_rules(const std::string& json_text, std::vector<AgentNameRule>& out,
                            std::string& error) {
  // ordered_json keeps the file's key order, so "first match wins" means what the user wrote.
  auto doc = nlohmann::ordered_json::parse(json_text, nullptr, false);
  if (doc.is_discarded()) {
    error = "not valid JSON";
    return false;
  }
  std::vector<AgentNameRule> rules;
  auto add = [&](const std::string& pattern, const std::string& name) {
    AgentNameRule r;
    if (!make_agent_name_rule(pattern, name, r, error)) return false;
    rules.push_back(std::move(r));
    return true;
  };
  if (doc.is_object()) {
    for (auto it = doc.begin(); it != doc.end(); ++it) {
      if (!it.value().is_string()) {
        error = "value for pattern '" + it.key() + "' must be a string (the agent name)";
        return false;
      }
      if (!add(it.key(), it.value().get<std::string>())) return false;
    }
  } else if (doc.is_array()) {
    std::size_t i = 0;
    for (const auto& e : doc) {
      if (!e.is_object() || !e.contains("pattern") || !e.contains("name") ||
          !e["pattern"].is_string() || !e["name"].is_string()) {
        error = "entry " + std::to_string(i) + " must be {\"pattern\": string, \"name\": string}";
        return false;
      }
      if (!add(e["pattern"].get<std::string>(), e["name"].get<std::string>())) return false;
      ++i;
    }
  } else {
    error = "expected a JSON object {\"regex\": \"name\"} or an array of {\"pattern\", \"name\"}";
    return false;
  }
  out = std::move(rules);
  return true;
}

bool load_agent_name_rules_file(const std::string& path, std::vector<AgentNameRule>& out,
                                std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "agent name mapping file " + path + ": cannot be read";
    return false;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string why;
  if (!parse_agent_name_rules(ss.str(), out, why)) {
    error = "agent name mapping file " + path + ": " + why;
    return false;
  }
  return true;
}

bool parse_metadata_json(const std::string& text, std::map<std::string, std::string>& out,
                         std::string& error) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] != '{' && text[first] != '[') {
    std::vector<std::string> bad;
    auto pairs = parse_key_value_list(text, &bad);
    if (!bad.empty() || pairs.empty()) {
      error = "LLMTAP_METADATA must be a JSON object or k=v,k2=v2 (percent-encode ',' and '=' in values)";
      return false;
    }
    for (auto& [k, v] : pairs) out[k] = v;
    return true;
  }
  auto doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    error = "LLMTAP_METADATA must be a JSON object or k=v,k2=v2";
    return false;
  }
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    out[it.key()] = it.value().is_string()
                        ? it.value().get<std::string>()
                        : it.value().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  return true;
}

std::string TraceOptions::effective_workflow_name() const {
  if (!workflow_name.empty()) return workflow_name;
  if (!process_name.empty()) return process_name;
  return "llmtap";
}

namespace {
bool truthy(const char* v) {
  if (v == nullptr) return false;
  std::string s(v);
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s == "true" || s == "1" || s == "yes" || s == "on";
}
}  // namespace

TraceOptions TraceOptions::from_env(const std::function<const char*(const char*)>& getenv,
                                    std::vector<std::string>* warnings) {
  TraceOptions o;
  if (const char* v = getenv("LLMTAP_WORKFLOW_NAME")) o.workflow_name = v;
  if (const char* v = getenv("LLMTAP_GROUP_ID")) o.group_id = v;
  if (const char* v = getenv("LLMTAP_METADATA"); v != nullptr && *v != '\0') {
    std::string error;
    if (!parse_metadata_json(v, o.metadata, error) && warnings) warnings->push_back(error);
  }
  o.capture_content = truthy(getenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"));
  if (const char* v = getenv("OTEL_RESOURCE_ATTRIBUTES"))
    for (const auto& [k, val] : parse_key_value_list(v))
      if (k == "service.version") o.release = val;
  return o;
}

TraceOptions TraceOptions::from_env(std::vector<std::string>* warnings) {
  return from_env([](const char* name) -> const char* { return std::getenv(name); }, warnings);
}

}  // namespace llmtap
