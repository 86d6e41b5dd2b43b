#pragma once
// Secrets and personal data inside free text (prompts, outputs, tool arguments and results, error
// messages), replaced by a typed placeholder "[REDACTED:<class>]" before any exporter sees them.
//
// One RE2::Set holding every class's pattern finds, in a single linear pass, which classes occur;
// only those classes then run their own RE2 to locate and replace the matches. Text with no secret
// (the common case) costs one DFA scan. Some classes check a match further before replacing it (card
// numbers: Luhn; high-entropy tokens: character mix and entropy).
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace re2 {
class RE2;
}

namespace llmtap::exporting {

// Where a string sits: specific secret shapes are redacted everywhere; personal data and generic
// shapes (high_entropy) only in free text (content, status messages), so ids and names stay intact.
enum class TextKind { kAny, kFreeText };

struct RedactionOptions {
  std::set<std::string> disabled_classes;  // --no-redact-class CLASS[,CLASS...]
  std::vector<std::string> patterns;       // --redact PATTERN (RE2), replaced as [REDACTED:custom]
};

class ContentRedactor {
 public:
  struct ClassInfo {
    std::string_view name;         // placeholder suffix and --no-redact-class name
    std::string_view description;  // for --help and SPEC.md
    bool free_text_only;           // PII and generic shapes: only in free text (ids stay intact)
  };
  // Every built-in class, in the order they are applied.
  static const std::vector<ClassInfo>& classes();
  // "[REDACTED:email]"
  static std::string placeholder(std::string_view class_name);

  // nullptr and *error on an unknown class or a pattern RE2 refuses (named in the message).
  static std::shared_ptr<const ContentRedactor> create(const RedactionOptions& options, std::string* error);
  // All built-in classes, no custom pattern (shared, compiled once).
  static std::shared_ptr<const ContentRedactor> default_instance();

  ~ContentRedactor();
  // Replaces every match of an enabled class in TEXT; returns false (TEXT untouched) when none.
  bool redact(std::string& text, TextKind kind) const;
  std::string redacted(std::string_view text, TextKind kind) const;

  struct Rule;

 private:
  ContentRedactor() = default;
  std::vector<Rule> rules_;
  std::unique_ptr<struct SetHolder> set_;
};

}  // namespace llmtap::exporting
