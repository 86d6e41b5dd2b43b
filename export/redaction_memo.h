#pragma once
// What redaction made of short strings that repeat from trace to trace: model, agent, tool and
// operation names, finish reasons, hosts. The export thread redacts every string attribute of every
// span (about a hundred a trace), and each pass is an RE2::Set scan, a credential scan and three
// string copies (export/redactor.h); most of those strings were redacted the same way a trace
// earlier. Redaction is a pure function of the text for one configuration, so a remembered result
// is exact.
//
// Bounded: two generations of at most max_entries each. When the current one is full it becomes
// the previous one and a new one starts; a value found in the previous generation moves into the
// current one. Values that recur stay, one-off ids (response and tool call ids) age out. Not
// thread-safe: one per sink, and a sink sees one call at a time.
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace llmtap::exporting {

class RedactionMemo {
 public:
  static constexpr std::size_t kMaxValueBytes = 160;  // longer strings are redacted every time
  static constexpr std::size_t kDefaultEntries = 4096;

  explicit RedactionMemo(std::size_t max_entries = kDefaultEntries) : max_entries_(max_entries < 1 ? 1 : max_entries) {}

  // Redacts TEXT in place with REDACT (a function of the text alone), or as it was redacted before.
  void apply(std::string& text, const std::function<std::string(std::string_view)>& redact);

  std::size_t hits() const { return hits_; }
  std::size_t entries() const { return current_.size() + previous_.size(); }

 private:
  struct Entry {
    bool unchanged = true;
    std::string redacted;  // when changed
  };
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Map = std::unordered_map<std::string, Entry, Hash, std::equal_to<>>;

  static void use(std::string& text, const Entry& e) {
    if (!e.unchanged) text = e.redacted;
  }
  // Puts E in the current generation, which first becomes the previous one when full.
  const Entry& remember(const std::string& text, Entry e);

  std::size_t max_entries_;
  Map current_, previous_;
  std::size_t hits_ = 0;
};

}  // namespace llmtap::exporting
