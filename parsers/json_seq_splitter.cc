#include "parsers/json_seq_splitter.h"

namespace llmtap {

void JsonSeqSplitter::feed(std::string_view bytes, std::vector<std::string>& out) {
  std::size_t start = 0;  // first byte of the current value within `bytes` (when depth_ > 0)
  auto keep = [&](std::size_t end) {
    if (cur_.size() + (end - start) <= max_value_bytes) cur_.append(bytes.substr(start, end - start));
  };
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    char c = bytes[i];
    if (depth_ == 0) {
      if (ended_) return;
      if (c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == ',') continue;
      if (!decided_) {
        decided_ = true;
        if (c == '[') {
          array_mode_ = true;
          continue;
        }
      }
      if (array_mode_ && c == ']') {
        ended_ = true;
        return;
      }
      if (c != '{' && c != '[') continue;  // scalars at top level carry nothing for us
      depth_ = 1;
      in_str_ = esc_ = false;
      start = i;
      cur_.clear();
      continue;
    }
    if (in_str_) {
      if (esc_) esc_ = false;
      else if (c == '\\') esc_ = true;
      else if (c == '"') in_str_ = false;
      continue;
    }
    if (c == '"') {
      in_str_ = true;
    } else if (c == '{' || c == '[') {
      ++depth_;
    } else if (c == '}' || c == ']') {
      if (--depth_ == 0) {
        keep(i + 1);
        out.push_back(std::move(cur_));
        cur_.clear();
      }
    }
  }
  if (depth_ > 0) keep(bytes.size());
}

}  // namespace llmtap
