#include "parsers/sse_decoder.h"

#include <cstring>

namespace llmtap {

namespace {

// Collects events into a vector (the owning interface).
class VectorSink : public SseEventSink {
 public:
  explicit VectorSink(std::vector<SseEvent>& out) : out_(out) {}
  void on_event(SseEvent& event) override {
    if (event.text.data() != event.data.data()) event.data.assign(event.text);  // delivered in place
    event.text = {};
    out_.push_back(std::move(event));
  }

 private:
  std::vector<SseEvent>& out_;
};

constexpr std::size_t kDataPadding = SseEvent::kPadding;

}  // namespace

void SseDecoder::feed(std::string_view bytes, std::vector<SseEvent>& out) {
  VectorSink sink(out);
  feed(bytes, sink);
}

void SseDecoder::finish(std::vector<SseEvent>& out) {
  VectorSink sink(out);
  finish(sink);
}

void SseDecoder::feed(std::string_view bytes, SseEventSink& sink) {
  std::size_t i = 0;
  if (skip_lf_ && !bytes.empty()) {
    if (bytes[0] == '\n') i = 1;
    skip_lf_ = false;
  }
  const char* base = bytes.data();
  const std::size_t n = bytes.size();
  // The next CR at or after i (n: none), searched once per CR rather than once per line: most
  // streams end lines in LF only, and a CRLF stream's CR is found where its line's LF is.
  auto next_cr = [&](std::size_t from) {
    const void* p = from < n ? std::memchr(base + from, '\r', n - from) : nullptr;
    return p ? static_cast<std::size_t>(static_cast<const char*>(p) - base) : n;
  };
  std::size_t cr = next_cr(i);
  while (i < n) {
    // The line's end: the first LF, or an earlier CR (memchr is vectorized).
    if (cr < i) cr = next_cr(i);
    std::size_t j = i;  // a blank line (every event's last) needs no search
    if (bytes[i] != '\n') {
      const void* lf = std::memchr(base + i, '\n', (cr < n ? cr : n) - i);
      j = lf ? static_cast<std::size_t>(static_cast<const char*>(lf) - base) : cr;
    }
    if (j == n) {
      std::size_t room = max_line_bytes > buf_.size() ? max_line_bytes - buf_.size() : 0;
      buf_.append(bytes.substr(i, std::min(room, j - i)));
      break;
    }
    if (buf_.empty()) {
      line(bytes.substr(i, j - i), true, n - j, sink);
    } else {
      std::size_t room = max_line_bytes > buf_.size() ? max_line_bytes - buf_.size() : 0;
      buf_.append(bytes.substr(i, std::min(room, j - i)));
      line(buf_, false, 0, sink);
      buf_.clear();
    }
    if (bytes[j] == '\r') {
      if (j + 1 < n) {
        if (bytes[j + 1] == '\n') ++j;
      } else {
        skip_lf_ = true;
      }
    }
    i = j + 1;
  }
  // An event still open at the chunk's end keeps its data past this call.
  keep_in_place_data();
}

void SseDecoder::keep_in_place_data() {
  if (!has_in_place_) return;
  cur_.data.reserve(in_place_.size() + kDataPadding);
  cur_.data.assign(in_place_);
  has_in_place_ = false;
}

void SseDecoder::finish(SseEventSink& sink) {
  partial_at_finish_ = !buf_.empty();
  buf_.clear();
  if (has_fields_) dispatch(sink);
}

void SseDecoder::line(std::string_view l, bool in_chunk, std::size_t rest, SseEventSink& sink) {
  if (!started_) {
    started_ = true;
    if (l.substr(0, 3) == "\xEF\xBB\xBF") l.remove_prefix(3);
  }
  if (l.empty()) {
    dispatch(sink);
    return;
  }
  if (l[0] == ':') return;  // comment (keep-alive)
  std::string_view name = l, value;
  // "data:" and "event:" lines (nearly all of them) without a search for the colon.
  if (l.size() >= 5 && std::memcmp(l.data(), "data:", 5) == 0) {
    name = l.substr(0, 4);
    value = l.substr(5);
  } else if (l.size() >= 6 && std::memcmp(l.data(), "event:", 6) == 0) {
    name = l.substr(0, 5);
    value = l.substr(6);
  } else if (auto c = l.find(':'); c != std::string_view::npos) {
    name = l.substr(0, c);
    value = l.substr(c + 1);
  }
  if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
  if (name == "data") {
    // The first data line, with room for the padding after it in the chunk: left where it is.
    if (!has_data_ && in_chunk && rest >= kDataPadding) {
      in_place_ = value;
      has_in_place_ = true;
      has_data_ = true;
      has_fields_ = true;
      return;
    }
    keep_in_place_data();
    std::size_t need = cur_.data.size() + 1 + value.size() + kDataPadding;
    if (cur_.data.capacity() < need) cur_.data.reserve(need + cur_.data.size());
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

void SseDecoder::dispatch(SseEventSink& sink) {
  // Per the standard an event without data is not dispatched.
  if (has_data_) {
    if (!has_in_place_ && cur_.data.capacity() < cur_.data.size() + kDataPadding)
      cur_.data.reserve(cur_.data.size() + kDataPadding);  // "data:" with an empty value reserved nothing
    cur_.text = has_in_place_ ? in_place_ : std::string_view(cur_.data);
    sink.on_event(cur_);
  }
  has_in_place_ = false;
  cur_.text = {};
  // Cleared, not replaced: the next event reuses the strings' storage.
  cur_.event.clear();
  cur_.data.clear();
  cur_.id.clear();
  has_data_ = false;
  has_fields_ = false;
}

}  // namespace llmtap
