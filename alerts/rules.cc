#include "alerts/rules.h"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "report/time_window.h"

namespace llmtap::alerts {
namespace {

// The fields each kind takes, besides name, kind, webhook; the first one listed is required (a loop
// rule needs either of its first two).
struct KindSpec {
  RuleKind kind;
  const char* name;
  std::vector<const char*> fields;
};

const std::vector<KindSpec>& kind_specs() {
  static const std::vector<KindSpec> specs = {
      {RuleKind::kTraceCost, "trace_cost", {"max_usd", "window"}},
      {RuleKind::kSpend, "spend", {"max_usd", "window"}},
      {RuleKind::kUserBudget, "user_budget", {"max_usd", "period", "enforce"}},
      {RuleKind::kSessionBudget, "session_budget", {"max_usd", "period", "enforce"}},
      {RuleKind::kToolFailureRate, "tool_failure_rate", {"max_rate", "min_calls", "window", "tool"}},
      {RuleKind::kAgentLatency, "agent_p95_latency", {"max_seconds", "min_calls", "window", "agent"}},
      {RuleKind::kLoop, "loop", {"repeats", "max_model_calls", "window"}},
  };
  return specs;
}

// Thrown only inside parse_rules (configuration, not the data path) and turned into *error there.
struct RuleError {
  int line;
  std::string field, what;
};

int line_of(const YAML::Node& n) { return std::max(0, n.Mark().line) + 1; }

[[noreturn]] void bad(const YAML::Node& n, const std::string& field, const std::string& what) {
  throw RuleError{line_of(n), field, what};
}

std::string scalar(const YAML::Node& n, const std::string& field) {
  if (!n.IsScalar()) bad(n, field, "wants a single value");
  return n.Scalar();
}

double number(const YAML::Node& n, const std::string& field, double lo, double hi) {
  const std::string s = scalar(n, field);
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end || !std::isfinite(v) || v < lo || v > hi) {
    std::ostringstream range;
    range << "wants a number from " << lo << " to " << hi << ", got '" << s << "'";
    bad(n, field, range.str());
  }
  return v;
}

std::int64_t whole(const YAML::Node& n, const std::string& field, std::int64_t lo) {
  const std::string s = scalar(n, field);
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end || v < lo || v > 1'000'000'000)
    bad(n, field, "wants a whole number of at least " + std::to_string(lo) + ", got '" + s + "'");
  return v;
}

bool flag(const YAML::Node& n, const std::string& field) {
  const std::string s = scalar(n, field);
  if (s == "true" || s == "yes" || s == "on") return true;
  if (s == "false" || s == "no" || s == "off") return false;
  bad(n, field, "wants true or false, got '" + s + "'");
}

UnixNanos duration(const YAML::Node& n, const std::string& field) {
  const std::string s = scalar(n, field);
  auto d = report::parse_duration(s);
  if (!d || *d < kNanosPerSecond) bad(n, field, "wants a duration of at least 1s (90s, 15m, 1h, 1d, 1w), got '" + s + "'");
  return *d;
}

std::string join(const std::vector<const char*>& names) {
  std::string out;
  for (const char* n : names) out += (out.empty() ? "" : ", ") + std::string(n);
  return out;
}

Rule parse_rule(const YAML::Node& node, std::size_t index) {
  const std::string at = "rules[" + std::to_string(index) + "]";
  if (!node.IsMap()) bad(node, at, "wants a mapping (name: ..., kind: ..., ...)");
  Rule r;
  r.line = line_of(node);
  const YAML::Node kind = node["kind"];
  if (!kind) bad(node, at + ".kind", "is missing");
  const KindSpec* spec = nullptr;
  std::vector<const char*> kinds;
  for (const auto& k : kind_specs()) {
    kinds.push_back(k.name);
    if (scalar(kind, at + ".kind") == k.name) spec = &k;
  }
  if (!spec) bad(kind, at + ".kind", "wants one of " + join(kinds) + ", got '" + kind.Scalar() + "'");
  r.kind = spec->kind;
  const YAML::Node name = node["name"];
  if (!name) bad(node, at + ".name", "is missing");
  r.name = scalar(name, at + ".name");
  if (r.name.empty() || r.name.size() > 100) bad(name, at + ".name", "wants 1 to 100 characters");
  if (r.kind != RuleKind::kLoop && !node[spec->fields.front()]) bad(node, at + "." + spec->fields.front(), "is missing (" + r.name + " is a " + spec->name + " rule)");
  if (r.kind == RuleKind::kUserBudget || r.kind == RuleKind::kSessionBudget) r.window = 86400 * kNanosPerSecond;

  for (const auto& kv : node) {
    const std::string key = kv.first.Scalar();
    const std::string field = at + "." + key;
    const YAML::Node& v = kv.second;
    bool known = key == "name" || key == "kind" || key == "webhook";
    for (const char* f : spec->fields) known = known || key == f;
    if (!known)
      bad(kv.first, field, "is not a field of a " + std::string(spec->name) + " rule (it takes name, kind, " +
                               join(spec->fields) + ", webhook)");
    if (key == "max_usd") r.max_usd = number(v, field, 0, 1e9);
    else if (key == "max_rate") r.max_rate = number(v, field, 0, 1);
    else if (key == "max_seconds") r.max_seconds = number(v, field, 0.001, 86400);
    else if (key == "min_calls") r.min_calls = whole(v, field, 1);
    else if (key == "repeats") r.repeats = whole(v, field, 2);
    else if (key == "max_model_calls") r.max_model_calls = whole(v, field, 1);
    else if (key == "window" || key == "period") r.window = duration(v, field);
    else if (key == "tool" || key == "agent") r.only = scalar(v, field);
    else if (key == "enforce") r.enforce = flag(v, field);
    else if (key == "webhook") r.webhook = flag(v, field);
  }
  if (r.kind == RuleKind::kLoop && r.repeats == 0 && r.max_model_calls == 0)
    bad(node, at + ".repeats", "is missing, as is max_model_calls (" + r.name + " is a loop rule: it needs one of them)");
  return r;
}

WebhookConfig parse_webhook(const YAML::Node& node) {
  WebhookConfig w;
  if (!node.IsMap()) bad(node, "webhook", "wants a mapping (url: ..., timeout: ...)");
  for (const auto& kv : node) {
    const std::string key = kv.first.Scalar();
    const std::string field = "webhook." + key;
    if (key == "url") {
      w.url = scalar(kv.second, field);
      if (w.url.rfind("http://", 0) != 0 && w.url.rfind("https://", 0) != 0)
        bad(kv.second, field, "wants an http:// or https:// URL, got '" + w.url + "'");
    } else if (key == "timeout") {
      w.timeout = std::chrono::milliseconds(duration(kv.second, field) / 1'000'000);
    } else if (key == "max_queued") {
      w.max_queued = static_cast<std::size_t>(whole(kv.second, field, 1));
    } else {
      bad(kv.first, field, "is not a webhook field (url, timeout, max_queued)");
    }
  }
  if (w.url.empty()) bad(node, "webhook.url", "is missing");
  return w;
}

}  // namespace

const char* to_string(RuleKind kind) {
  for (const auto& k : kind_specs())
    if (k.kind == kind) return k.name;
  return "unknown";
}

bool is_budget(RuleKind kind) { return kind == RuleKind::kUserBudget || kind == RuleKind::kSessionBudget; }

std::optional<RuleSet> parse_rules(const std::string& text, const std::string& source, std::string* error) {
  try {
    YAML::Node root = YAML::Load(text);
    RuleSet set;
    if (!root.IsMap()) bad(root, "(top level)", "wants a mapping with a rules: list");
    for (const auto& kv : root) {
      const std::string key = kv.first.Scalar();
      if (key == "rules") {
        if (!kv.second.IsSequence()) bad(kv.second, "rules", "wants a list of rules");
        std::set<std::string> names;
        for (std::size_t i = 0; i < kv.second.size(); ++i) {
          Rule r = parse_rule(kv.second[i], i);
          if (!names.insert(r.name).second)
            bad(kv.second[i]["name"], "rules[" + std::to_string(i) + "].name", "'" + r.name + "' is used twice");
          set.rules.push_back(std::move(r));
        }
      } else if (key == "webhook") {
        set.webhook = parse_webhook(kv.second);
      } else if (key == "max_keys_per_rule") {
        set.max_keys_per_rule = static_cast<std::size_t>(whole(kv.second, key, 1));
      } else {
        bad(kv.first, key, "is not a top-level field (rules, webhook, max_keys_per_rule)");
      }
    }
    if (!root["rules"]) bad(root, "rules", "is missing");
    return set;
  } catch (const RuleError& e) {
    *error = source + ":" + std::to_string(e.line) + ": " + e.field + ": " + e.what;
  } catch (const YAML::Exception& e) {
    *error = source + ":" + std::to_string(e.mark.line + 1) + ": not valid YAML: " + e.msg;
  }
  return std::nullopt;
}

std::optional<RuleSet> load_rules_file(const std::string& path, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = "cannot read alert rules " + path + ": " + std::strerror(errno);
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().size() > 1024 * 1024) {
    *error = "alert rules " + path + " is larger than 1 MiB";
    return std::nullopt;
  }
  return parse_rules(text.str(), path, error);
}

}  // namespace llmtap::alerts
