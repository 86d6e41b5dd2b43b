#include "export/redaction_memo.h"

#include <utility>

namespace llmtap::exporting {

void RedactionMemo::apply(std::string& text, const std::function<std::string(std::string_view)>& redact) {
  if (text.empty()) return;  // nothing to redact, nothing to remember
  if (text.size() > kMaxValueBytes) {
    text = redact(text);
    return;
  }
  if (auto it = current_.find(std::string_view(text)); it != current_.end()) {
    ++hits_;
    use(text, it->second);
    return;
  }
  if (auto it = previous_.find(std::string_view(text)); it != previous_.end()) {
    ++hits_;
    Entry e = std::move(it->second);
    previous_.erase(it);
    use(text, remember(text, std::move(e)));
    return;
  }
  std::string out = redact(text);
  Entry e;
  e.unchanged = out == text;
  if (!e.unchanged) e.redacted = out;
  remember(text, std::move(e));
  text = std::move(out);
}

const RedactionMemo::Entry& RedactionMemo::remember(const std::string& text, Entry e) {
  if (current_.size() >= max_entries_) previous_ = std::exchange(current_, Map{});
  return current_.emplace(text, std::move(e)).first->second;
}

}  // namespace llmtap::exporting
