#pragma once
// Secrets never leave llmtap: every string an exporter sees passes through the Redactor first.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/sinks.h"
#include "common/span.h"
#include "export/content_redactor.h"
#include "export/redaction_memo.h"

namespace llmtap::exporting {

// The whole value of a credential-bearing header or field; typed placeholders
// ("[REDACTED:email]") come from the ContentRedactor's classes.
inline constexpr std::string_view kRedacted = "[REDACTED]";

class Redactor {
 public:
  Redactor() : content_(ContentRedactor::default_instance()) {}
  explicit Redactor(std::shared_ptr<const ContentRedactor> content) : content_(std::move(content)) {}

  // Replaces the secret classes of the ContentRedactor, then the values of auth headers
  // (Authorization, x-api-key, api-key, x-goog-api-key, ...), bearer credentials and ?key= in
  // header dumps and JSON. For names, ids and header values.
  std::string redact(std::string_view text) const;
  // As redact(), plus personal data and generic secret shapes: for prompts, outputs, tool arguments
  // and results, and error messages.
  std::string redact_free_text(std::string_view text) const;
  // True when an attribute key names a credential-bearing header: its whole value is dropped.
  static bool is_auth_key(std::string_view key);
  // MEMOS, if given, remember what short strings became ([0]: names and ids, [1]: free text), so
  // values that recur from trace to trace are redacted once.
  using Memos = RedactionMemo[2];
  void redact_span(Span& span, Memos* memos = nullptr) const;
  Trace redact_trace(const Trace& trace) const;
  void redact_trace_in_place(Trace& trace, Memos* memos = nullptr) const;

 private:
  std::string redact_credentials(std::string_view text) const;
  std::string redact_until_stable(std::string_view text, TextKind kind) const;
  // TEXT redacted in place as KIND, through MEMOS when given.
  void clean(std::string& text, TextKind kind, Memos* memos) const;
  void redact_attributes(std::vector<Attribute>& attributes, Memos* memos) const;
  std::shared_ptr<const ContentRedactor> content_;
};

// Attributes that carry prompts, outputs, tool arguments or results (content capture).
bool is_content_attribute(std::string_view key);

// Decorator: redacts (and, with content capture off, strips content) before the wrapped sink sees
// the trace. CONTENT null means the built-in classes.
class RedactingSink : public TraceSink {
 public:
  RedactingSink(std::unique_ptr<TraceSink> next, bool capture_content,
                std::shared_ptr<const ContentRedactor> content = nullptr);
  void on_trace(const Trace& trace) override;
  void take_trace(Trace&& trace) override;  // redacted in place, then handed on
  void flush() override;
  void stop_by(std::chrono::steady_clock::time_point deadline) override { next_->stop_by(deadline); }

 private:
  Redactor redactor_;
  Redactor::Memos memos_;  // the sink sees one call at a time
  std::unique_ptr<TraceSink> next_;
  bool capture_content_;
};

// Passes traces on to a sink it does not own (an in-process consumer beside the exporters).
class ForwardingSink : public TraceSink {
 public:
  explicit ForwardingSink(TraceSink& next) : next_(next) {}
  void on_trace(const Trace& trace) override { next_.on_trace(trace); }
  void take_trace(Trace&& trace) override { next_.take_trace(std::move(trace)); }
  void flush() override { next_.flush(); }

 private:
  TraceSink& next_;
};

// One trace to many sinks, in order.
class FanoutSink : public TraceSink {
 public:
  explicit FanoutSink(std::vector<std::unique_ptr<TraceSink>> sinks) : sinks_(std::move(sinks)) {}
  void on_trace(const Trace& trace) override;
  void take_trace(Trace&& trace) override;  // the last sink takes it, the others see it
  void flush() override;
  void stop_by(std::chrono::steady_clock::time_point deadline) override {
    for (auto& s : sinks_) s->stop_by(deadline);
  }
  std::size_t size() const { return sinks_.size(); }

 private:
  std::vector<std::unique_ptr<TraceSink>> sinks_;
};

}  // namespace llmtap::exporting
