#include "parsers/sse_decoder.h"

namespace llmtap {

void SseDecoder::feed(std::string_view bytes, std::vector<SseEvent>& out) {
  std::size_t i = 0;
  if (skip_lf_ && !bytes.empty()) {
    if (bytes[0] == '\n') i = 1;
    skip_lf_ = false;
  }
  while (i < bytes.size()) {
    std::size_t j = i;
    while (j < bytes.size() && bytes[j] != '\n' && bytes[j] != '\r') ++j;
    if (j == bytes.size()) {
      std::size_t room = max_line_bytes > buf_.size() ? max_line_bytes - buf_.size() : 0;
      buf_.append(bytes.substr(i, std::min(room, j - i)));
      return;
    }
    if (buf_.empty()) {
      line(bytes.substr(i, j - i), out);
    } else {
      std::size_t room = max_line_bytes > buf_.size() ? max_line_bytes - buf_.size() : 0;
      buf_.append(bytes.substr(i, std::min(room, j - i)));
      line(buf_, out);
      buf_.clear();
    }
    if (bytes[j] == '\r') {
      if (j + 1 < bytes.size()) {
        if (bytes[j + 1] == '\n') ++j;
      } else {
        skip_lf_ = true;
      }
    }
    i = j + 1;
  }
}

void SseDecoder::finish(std::vector<SseEvent>& out) {
  partial_at_finish_ = !buf_.empty();
  buf_.clear();
  if (has_fields_) dispatch(out);
}

void SseDecoder::line(std::string_view l, std::vector<SseEvent>& out) {
  if (!started_) {
    started_ = true;
    if (l.substr(0, 3) == "\xEF\xBB\xBF") l.remove_prefix(3);
  }
  if (l.empty()) {
    dispatch(out);
    return;
  }
  if (l[0] == ':') return;  // comment (keep-alive)
  std::string_view name = l, value;
  if (auto c = l.find(':'); c != std::string_view::npos) {
    name = l.substr(0, c);
    value = l.substr(c + 1);
    if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
  }
  if (name == "data") {
    if (has_data_) cur_.data.push_back('\n');
    cur_.data.append(value);
    has_data_ = true;
    has_fields_ = true;
  } else if (name == "event") {
    cur_.event.assign(value);
    has_fields_ = true;
  } else if (name == "id") {
    if (value.find('\0') == std::string_view::npos) cur_.id.assign(value);
    has_fields_ = true;
  }
  // "retry" and unknown fields are ignored, as the standard says.
}

void SseDecoder::dispatch(std::vector<SseEvent>& out) {
  // Per the standard an event without data is not dispatched.
  if (has_data_) out.push_back(std::move(cur_));
  cur_ = SseEvent{};
  has_data_ = false;
  has_fields_ = false;
}

}  // namespace llmtap
