#include "export/content_redactor.h"

#include <algorithm>
#include <array>
#include <cmath>

#include <re2/re2.h>
#include <re2/set.h>

#include "common/safe_regex.h"

namespace llmtap::exporting {
namespace {

using Validator = bool (*)(std::string_view);

// Card numbers: 13-19 digits (spaces or dashes between) passing the Luhn check, not all one digit.
bool luhn_valid(std::string_view s) {
  int digits[19], n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') continue;
    if (n == 19) return false;
    digits[n++] = c - '0';
  }
  if (n < 13) return false;
  bool all_same = true;
  int sum = 0;
  for (int i = 0; i < n; ++i) {
    int d = digits[n - 1 - i];
    if (i % 2 == 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
    all_same &= digits[i] == digits[0];
  }
  return sum % 10 == 0 && !all_same;
}

// Phone numbers: 7 to 15 digits (E.164 allows at most 15).
bool phone_digits(std::string_view s) {
  int n = 0;
  for (char c : s) n += c >= '0' && c <= '9';
  return n >= 7 && n <= 15;
}

// A key=value secret's value, not the auth scheme word before it: once "token: bearer X" has become
// "token: bearer [REDACTED:...]", "bearer" alone must not read as the value (idempotence).
bool not_auth_scheme(std::string_view s) {
  for (std::string_view scheme : {"bearer", "basic", "token"}) {
    if (s.size() != scheme.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < s.size(); ++i)
      same &= (s[i] | 0x20) == scheme[i];
    if (same) return false;
  }
  return true;
}

// Random-looking tokens: upper, lower and digits mixed, and close to the entropy of random base62
// (identifiers and words stay below it; hex digests have no upper/lower mix).
bool high_entropy(std::string_view s) {
  bool upper = false, lower = false, digit = false;
  std::array<int, 256> counts{};
  for (char c : s) {
    upper |= c >= 'A' && c <= 'Z';
    lower |= c >= 'a' && c <= 'z';
    digit |= c >= '0' && c <= '9';
    ++counts[static_cast<unsigned char>(c)];
  }
  if (!upper || !lower || !digit) return false;
  double h = 0;
  for (int k : counts)
    if (k) {
      double p = static_cast<double>(k) / static_cast<double>(s.size());
      h -= p * std::log2(p);
    }
  return h >= 4.0;
}

struct BuiltinRule {
  ContentRedactor::ClassInfo info;
  const char* pattern;
  Validator validate;
  int replace_group = 0;  // 1: only the first group is replaced (the value after a key name)
};

// Applied in this order: specific shapes before generic ones, so a GitHub token after "token=" is
// reported as github_token and a key inside a PEM block is not half-eaten by high_entropy.
const std::vector<BuiltinRule>& builtin_rules() {
  static const std::vector<BuiltinRule> rules = {
      {{"private_key", "PEM private-key blocks (-----BEGIN ... PRIVATE KEY-----)", false},
       R"(-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----(?:(?s:.)*?-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|[A-Za-z0-9+/=\s\\]*))",
       nullptr},
      {{"jwt", "JSON Web Tokens (eyJ....eyJ....sig)", false},
       R"(\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*)", nullptr},
      {{"aws_access_key_id", "AWS access key ids (AKIA..., ASIA...)", false},
       R"(\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|APKA|AROA|ASCA)[A-Z0-9]{16}\b)", nullptr},
      {{"aws_secret_access_key", "AWS secret access keys after their key name", false},
       R"((?i)(?:aws_?secret_?(?:access_?)?key|secret_?access_?key)[\\"']*\s*[:=]\s*[\\"']*([A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+]|$))",
       nullptr, 1},
      {{"github_token", "GitHub tokens (ghp_, gho_, ghu_, ghs_, ghr_, github_pat_)", false},
       R"(\b(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{22,255})\b)", nullptr},
      {{"gitlab_token", "GitLab tokens (glpat-, gldt-, glrt-, ...)", false},
       R"(\bgl(?:pat|dt|rt|ptt|cbt|oas|soat|ffct|imt)-[A-Za-z0-9_-]{20,})", nullptr},
      {{"slack_token", "Slack tokens (xoxb-, xoxp-, xapp-, ...) and webhook URLs", false},
       R"(\bxox[abposre]-[A-Za-z0-9-]{10,}|\bxapp-[0-9]+-[A-Za-z0-9-]{10,}|https://hooks\.slack\.com/(?:services|workflows)/[A-Za-z0-9/_-]+)",
       nullptr},
      {{"anthropic_key", "Anthropic API keys (sk-ant-...)", false}, R"(\bsk-ant-[A-Za-z0-9_-]{20,})", nullptr},
      {{"openai_key", "OpenAI API keys (sk-..., sk-proj-...)", false}, R"(\bsk-[A-Za-z0-9_-]{20,})", nullptr},
      {{"google_api_key", "Google API keys (AIza...)", false}, R"(\bAIza[0-9A-Za-z_-]{30,})", nullptr},
      {{"password", "password=, secret=, token=, api_key=-style pairs (the value)", false},
       R"((?i)\b(?:password|passwd|pwd|secret|client_?secret|token|access_?token|auth_?token|refresh_?token|api_?key|private_?key)[\\"']*\s*[:=]\s*[\\"']*(?:(?:bearer|basic|token)\s+)?([^\s"'\\&,;\[\]{}()<>][^\s"'\\&,;<>]{2,}))",
       not_auth_scheme, 1},
      {{"bearer_token", "bearer credentials (Bearer <16+ characters>)", false},
       R"((?i)\bbearer\s+([A-Za-z0-9._~+/-]{16,}=*))", nullptr, 1},
      {{"high_entropy", "random-looking tokens of 32+ characters (mixed case and digits)", true},
       R"((?:^|[^A-Za-z0-9+/_=-])([A-Za-z0-9+/_-]{32,512}=*)(?:[^A-Za-z0-9+/_=-]|$))", high_entropy, 1},
      {{"email", "e-mail addresses", true},
       R"(\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b)", nullptr},
      {{"card_number", "payment card numbers (13-19 digits passing the Luhn check)", true},
       R"(\b(?:\d[ -]?){12,18}\d\b)", luhn_valid},
      {{"phone", "phone numbers (+CC ..., (555) 123-4567, 555-123-4567)", true},
       // Not inside a longer token, on either side: a "+digits" piece of one is part of that token
       // (high_entropy judges it), and redacting the piece alone would hand its neighbours a boundary
       // they lacked, so a second pass would redact more (not idempotent).
       R"((?:^|[^A-Za-z0-9+/_=-])((?:\+\d{1,3}(?:[ .-]?\(?\d{1,4}\)?){1,4}[ .-]?\d{3,4}|(?:\(\d{3}\)\s?|\b\d{3}[ .-])\d{3}[ .-]\d{4}))(?:[^A-Za-z0-9+/_=-]|$))",
       phone_digits, 1},
  };
  return rules;
}

constexpr std::string_view kCustom = "custom";

}  // namespace

struct ContentRedactor::Rule {
  std::string name;
  std::unique_ptr<re2::RE2> re;
  Validator validate = nullptr;
  int replace_group = 0;
  bool free_text_only = false;
  std::string placeholder;
};

struct SetHolder {
  explicit SetHolder(const re2::RE2::Options& o) : set(o, re2::RE2::UNANCHORED) {}
  re2::RE2::Set set;
};

ContentRedactor::~ContentRedactor() = default;

const std::vector<ContentRedactor::ClassInfo>& ContentRedactor::classes() {
  static const std::vector<ClassInfo> out = [] {
    std::vector<ClassInfo> v;
    for (const auto& r : builtin_rules()) v.push_back(r.info);
    return v;
  }();
  return out;
}

std::string ContentRedactor::placeholder(std::string_view class_name) {
  return "[REDACTED:" + std::string(class_name) + "]";
}

std::shared_ptr<const ContentRedactor> ContentRedactor::create(const RedactionOptions& options, std::string* error) {
  for (const auto& name : options.disabled_classes) {
    bool known = false;
    for (const auto& c : classes()) known |= c.name == name;
    if (!known) {
      std::string list;
      for (const auto& c : classes()) list += (list.empty() ? "" : ", ") + std::string(c.name);
      if (error) *error = "unknown redaction class '" + name + "' (classes: " + list + ")";
      return nullptr;
    }
  }
  std::shared_ptr<ContentRedactor> r(new ContentRedactor());
  const RegexOptions regex_options;
  r->set_ = std::make_unique<SetHolder>(re2_options(regex_options));
  auto add = [&](std::string name, std::string_view pattern, Validator v, int group, bool free_text_only) {
    std::string why;
    auto re = std::make_unique<re2::RE2>(re2::StringPiece(pattern.data(), pattern.size()), re2_options(regex_options));
    if (!re->ok() || r->set_->set.Add(re2::StringPiece(pattern.data(), pattern.size()), &why) < 0) {
      if (error) *error = "--redact: invalid regular expression '" + std::string(pattern) + "': " +
                          (re->ok() ? why : re->error());
      return false;
    }
    Rule rule;
    rule.placeholder = placeholder(name);
    rule.name = std::move(name);
    rule.re = std::move(re);
    rule.validate = v;
    rule.replace_group = group;
    rule.free_text_only = free_text_only;
    r->rules_.push_back(std::move(rule));
    return true;
  };
  for (const auto& b : builtin_rules())
    if (!options.disabled_classes.count(std::string(b.info.name)) &&
        !add(std::string(b.info.name), b.pattern, b.validate, b.replace_group, b.info.free_text_only))
      return nullptr;
  for (const auto& p : options.patterns)
    if (!add(std::string(kCustom), p, nullptr, 0, false)) return nullptr;
  if (!r->set_->set.Compile()) {
    if (error) *error = "redaction patterns exceed the regular-expression memory budget";
    return nullptr;
  }
  return r;
}

std::shared_ptr<const ContentRedactor> ContentRedactor::default_instance() {
  static const std::shared_ptr<const ContentRedactor> instance = [] {
    std::string error;
    auto r = create({}, &error);
    return r;  // the built-in patterns are tested to compile
  }();
  return instance;
}

bool ContentRedactor::redact(std::string& text, TextKind kind) const {
  if (text.empty() || rules_.empty()) return false;
  std::vector<int> hits;
  // When the set's DFA runs out of memory it reports failure: then every rule runs on its own.
  re2::RE2::Set::ErrorInfo info{};
  if (!set_->set.Match(text, &hits, &info)) {
    if (info.kind == re2::RE2::Set::kNoError) return false;
    hits.clear();
    for (std::size_t i = 0; i < rules_.size(); ++i) hits.push_back(static_cast<int>(i));
  }
  std::sort(hits.begin(), hits.end());
  bool changed = false;
  std::string out;
  for (int index : hits) {
    const Rule& rule = rules_[static_cast<std::size_t>(index)];
    if (rule.free_text_only && kind != TextKind::kFreeText) continue;
    const int ngroups = rule.replace_group + 1;
    re2::StringPiece groups[2];
    const re2::StringPiece whole(text);
    std::size_t pos = 0, copied = 0;
    bool any = false;
    out.clear();
    while (pos <= text.size() &&
           rule.re->Match(whole, pos, text.size(), re2::RE2::UNANCHORED, groups, ngroups)) {
      const std::size_t mb = static_cast<std::size_t>(groups[0].data() - text.data());
      const std::size_t me = mb + groups[0].size();
      re2::StringPiece target = rule.replace_group && groups[1].data() ? groups[1] : groups[0];
      const std::size_t tb = static_cast<std::size_t>(target.data() - text.data());
      const std::size_t te = tb + target.size();
      if (te > tb && tb >= copied &&
          (!rule.validate || rule.validate(std::string_view(target.data(), target.size())))) {
        out.append(text, copied, tb - copied);
        out += rule.placeholder;
        copied = te;
        any = true;
      }
      // A match that ended on a delimiter it consumed (high_entropy, aws) may share it with the next.
      pos = me > mb ? (te < me && te > tb ? te : me) : mb + 1;
    }
    if (!any) continue;
    out.append(text, copied, std::string::npos);
    text.swap(out);
    changed = true;
  }
  return changed;
}

std::string ContentRedactor::redacted(std::string_view text, TextKind kind) const {
  std::string s(text);
  redact(s, kind);
  return s;
}

}  // namespace llmtap::exporting
