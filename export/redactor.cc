#include "export/redactor.h"

#include <array>
#include <cctype>

#include "common/ascii.h"

namespace llmtap::exporting {
namespace {

// Header names whose values are credentials, longest first so "x-api-key" wins over "api-key".
constexpr std::array<std::string_view, 9> kAuthNames = {
    "proxy-authorization", "x-goog-api-key", "authorization", "x-api-key", "api-key",
    "api_key", "apikey", "set-cookie", "cookie"};

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

bool istarts_with(std::string_view s, std::size_t pos, std::string_view prefix) {
  if (s.size() - pos < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (lower(s[pos + i]) != prefix[i]) return false;
  return true;
}

bool is_token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
}
bool is_bearer_char(char c) {
  return is_token_char(c) || c == '.' || c == '~' || c == '+' || c == '/' || c == '=';
}
bool at_word_start(std::string_view s, std::size_t pos) { return pos == 0 || !is_token_char(s[pos - 1]); }

std::size_t token_end(std::string_view s, std::size_t pos) {
  while (pos < s.size() && is_token_char(s[pos])) ++pos;
  return pos;
}

// "name" [quote] [ws] (':' | '=') [ws] value. Returns the [begin, end) of the value or npos.
bool match_auth_header(std::string_view s, std::size_t pos, std::size_t* vbegin, std::size_t* vend) {
  for (auto name : kAuthNames) {
    if (!istarts_with(s, pos, name)) continue;
    std::size_t p = pos + name.size();
    if (p < s.size() && is_token_char(s[p])) return false;  // a longer word, e.g. "authorizations"
    bool quoted_key = false;
    if (p < s.size() && (s[p] == '"' || s[p] == '\'')) { quoted_key = true; ++p; }
    else if (p + 1 < s.size() && s[p] == '\\' && s[p + 1] == '"') { quoted_key = true; p += 2; }
    while (p < s.size() && (s[p] == ' ' || s[p] == '\t')) ++p;
    if (p >= s.size() || (s[p] != ':' && s[p] != '=')) return false;
    ++p;
    while (p < s.size() && (s[p] == ' ' || s[p] == '\t')) ++p;
    if (p >= s.size()) return false;
    char quote = 0;
    if (s[p] == '"' || s[p] == '\'') quote = s[p++];
    else if (s[p] == '\\' && p + 1 < s.size() && s[p + 1] == '"') { quote = '\\'; p += 2; }  // escaped JSON
    std::size_t e = p;
    if (quote == '\\') {
      while (e < s.size() && !(s[e] == '\\' && e + 1 < s.size() && s[e + 1] == '"')) ++e;
    } else if (quote) {
      while (e < s.size() && s[e] != quote) e += (s[e] == '\\' && e + 1 < s.size()) ? 2 : 1;
      if (e > s.size()) e = s.size();
    } else if (quoted_key) {
      return false;  // "authorization": {..} or a number: not a credential string
    } else {
      // Header line or form/query value: up to end of line, '&', ',' (k=v lists) or ';'.
      while (e < s.size() && s[e] != '\r' && s[e] != '\n' && s[e] != '&' && s[e] != ',' &&
             s[e] != ';' && s[e] != '"')
        ++e;
      while (e > p && (s[e - 1] == ' ' || s[e - 1] == '\t')) --e;
    }
    if (e == p) return false;
    *vbegin = p;
    *vend = e;
    return true;
  }
  return false;
}

}  // namespace

bool Redactor::is_auth_key(std::string_view key) {
  // Called for every attribute of every exported span: compared in place, without a lowered copy.
  for (auto name : kAuthNames) {
    if (!ascii_iends_with(key, name)) continue;
    const std::size_t at = key.size() - name.size();
    if (at == 0 || !std::isalnum(static_cast<unsigned char>(key[at - 1]))) return true;
  }
  return false;
}

std::string Redactor::redact(std::string_view text) const { return redact_until_stable(text, TextKind::kAny); }

std::string Redactor::redact_free_text(std::string_view text) const {
  return redact_until_stable(text, TextKind::kFreeText);
}

// A placeholder can hand its neighbours a boundary they lacked ("...A+0000721" after a key becomes
// "[REDACTED:...]+0000721", a phone number), so one pass may leave something a second pass finds:
// passes repeat until one changes nothing, which makes redaction idempotent. Text with nothing to
// redact takes one pass; each pass only shrinks secrets into placeholders, so few are ever needed.
std::string Redactor::redact_until_stable(std::string_view text, TextKind kind) const {
  constexpr int kMaxPasses = 8;
  std::string current(text);
  for (int pass = 0; pass < kMaxPasses; ++pass) {
    std::string next = redact_credentials(content_ ? content_->redacted(current, kind) : current);
    if (next == current) break;
    current.swap(next);
  }
  return current;
}

std::string Redactor::redact_credentials(std::string_view s) const {
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    char c = lower(s[i]);
    if ((c == 'a' || c == 'x' || c == 'p' || c == 'c' || c == 's') && at_word_start(s, i)) {
      std::size_t vb, ve;
      if (match_auth_header(s, i, &vb, &ve)) {
        out.append(s.substr(i, vb - i));
        out.append(kRedacted);
        i = ve;
        continue;
      }
    }
    // Query-string credentials: ?key=... / &key=... (Gemini), whatever their shape.
    if ((s[i] == '?' || s[i] == '&') && istarts_with(s, i + 1, "key=")) {
      std::size_t p = i + 5, e = p;
      while (e < s.size() && s[e] != '&' && s[e] != '#' && s[e] != '"' && s[e] != '\'' && s[e] != '\\' &&
             !std::isspace(static_cast<unsigned char>(s[e])))
        ++e;
      if (e > p) {
        out.append(s.substr(i, 5));
        out.append(kRedacted);
        i = e;
        continue;
      }
    }
    if (c == 'b' && at_word_start(s, i) && istarts_with(s, i, "bearer")) {
      std::size_t p = i + 6;
      std::size_t ws = p;
      while (p < s.size() && (s[p] == ' ' || s[p] == '\t')) ++p;
      std::size_t e = p;
      while (e < s.size() && is_bearer_char(s[e])) ++e;
      if (p > ws && e - p >= 8) {
        out.append(s.substr(i, p - i));
        out.append(kRedacted);
        i = e;
        continue;
      }
    }
    if (s[i] == 's' && at_word_start(s, i) && s.compare(i, 3, "sk-") == 0) {
      std::size_t e = token_end(s, i + 3);
      if (e - (i + 3) >= 12) {
        out.append(kRedacted);
        i = e;
        continue;
      }
    }
    if (s[i] == 'A' && at_word_start(s, i) && s.compare(i, 4, "AIza") == 0) {
      std::size_t e = token_end(s, i + 4);
      if (e - (i + 4) >= 20) {
        out.append(kRedacted);
        i = e;
        continue;
      }
    }
    out.push_back(s[i]);
    ++i;
  }
  return out;
}

void Redactor::clean(std::string& text, TextKind kind, Memos* memos) const {
  if (memos == nullptr) {
    text = redact_until_stable(text, kind);
    return;
  }
  (*memos)[kind == TextKind::kFreeText ? 1 : 0].apply(text, [&](std::string_view t) { return redact_until_stable(t, kind); });
}

void Redactor::redact_span(Span& span, Memos* memos) const {
  clean(span.name, TextKind::kAny, memos);
  // Error messages often echo the prompt (even with capture off): always treated as free text.
  clean(span.status_message, TextKind::kFreeText, memos);
  redact_attributes(span.attributes, memos);
  for (auto& e : span.events) {
    clean(e.name, TextKind::kAny, memos);
    redact_attributes(e.attributes, memos);
  }
}

void Redactor::redact_attributes(std::vector<Attribute>& attributes, Memos* memos) const {
  for (auto& a : attributes) {
    auto* str = std::get_if<std::string>(&a.value);
    auto* list = std::get_if<std::vector<std::string>>(&a.value);
    if (!str && !list) continue;  // numbers and flags hold no text: no key checks for them
    const bool whole = is_auth_key(a.key);
    const TextKind kind = is_content_attribute(a.key) ? TextKind::kFreeText : TextKind::kAny;
    auto scrub = [&](std::string& v) {
      if (whole) v = std::string(kRedacted);
      else clean(v, kind, memos);
    };
    if (str) scrub(*str);
    else
      for (auto& item : *list) scrub(item);
  }
}

Trace Redactor::redact_trace(const Trace& trace) const {
  Trace out = trace;
  redact_trace_in_place(out);
  return out;
}

void Redactor::redact_trace_in_place(Trace& trace, Memos* memos) const {
  for (auto& s : trace.spans) redact_span(s, memos);
}

bool is_content_attribute(std::string_view key) {
  // Asked of every attribute of every exported span: the shared prefix is compared once and the
  // first letter rules out most names before any compare.
  constexpr std::string_view kPrefix = "gen_ai.";
  static constexpr std::array<std::string_view, 7> kContent = {
      "system_instructions", "input.messages", "output.messages", "tool.call.arguments",
      "tool.call.result",    "prompt",         "completion"};
  if (!key.starts_with(kPrefix)) return false;
  key.remove_prefix(kPrefix.size());
  for (auto k : kContent)
    if (!key.empty() && key[0] == k[0] && key.starts_with(k) && (key.size() == k.size() || key[k.size()] == '.'))
      return true;
  return false;
}

RedactingSink::RedactingSink(std::unique_ptr<TraceSink> next, bool capture_content,
                             std::shared_ptr<const ContentRedactor> content)
    : redactor_(content ? std::move(content) : ContentRedactor::default_instance()),
      next_(std::move(next)),
      capture_content_(capture_content) {}

void RedactingSink::on_trace(const Trace& trace) { take_trace(Trace(trace)); }

void RedactingSink::take_trace(Trace&& trace) {
  // Content that is not exported is dropped first, not redacted and then dropped.
  if (!capture_content_) {
    for (auto& span : trace.spans) {
      std::erase_if(span.attributes, [](const Attribute& a) { return is_content_attribute(a.key); });
    }
  }
  redactor_.redact_trace_in_place(trace, &memos_);
  next_->take_trace(std::move(trace));
}

void RedactingSink::flush() { next_->flush(); }

void FanoutSink::on_trace(const Trace& trace) {
  for (auto& s : sinks_) s->on_trace(trace);
}

void FanoutSink::take_trace(Trace&& trace) {
  if (sinks_.empty()) return;
  for (std::size_t i = 0; i + 1 < sinks_.size(); ++i) sinks_[i]->on_trace(trace);
  sinks_.back()->take_trace(std::move(trace));
}

void FanoutSink::flush() {
  for (auto& s : sinks_) s->flush();
}

}  // namespace llmtap::exporting
