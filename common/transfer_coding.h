#pragma once
// How a message's Transfer-Encoding fields (all of them, in order) frame its body (RFC 9112 §6.1,
// §6.3), shared by the proxy's request framing and the capture-side HTTP/1 parser so both read the
// same bytes as the same messages. Sans-IO: feed each field value, then ask.
#include <cstddef>
#include <string_view>

namespace llmtap {

enum class TransferFraming {
  kNone,        // no Transfer-Encoding field
  kChunked,     // chunked is the final coding, applied once
  kNotChunked,  // a coding other than chunked is last: a request is refused (400), a response runs to close
  kInvalid,     // chunked applied more than once, or a field with no coding at all
};

class TransferCodingList {
 public:
  void add(std::string_view field_value) {
    seen_ = true;
    bool any = false;
    std::size_t pos = 0;
    while (pos <= field_value.size()) {
      std::size_t comma = field_value.find(',', pos);
      if (comma == std::string_view::npos) comma = field_value.size();
      std::string_view coding = trim(field_value.substr(pos, comma - pos));
      pos = comma + 1;
      if (coding.empty()) continue;  // list syntax allows empty elements
      any = true;
      last_chunked_ = is_chunked(coding);
      if (last_chunked_) ++chunked_;
    }
    if (!any) empty_field_ = true;
  }

  TransferFraming framing() const {
    if (!seen_) return TransferFraming::kNone;
    if (empty_field_ || chunked_ > 1) return TransferFraming::kInvalid;
    return last_chunked_ ? TransferFraming::kChunked : TransferFraming::kNotChunked;
  }

 private:
  static std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
  }
  static bool is_chunked(std::string_view s) {
    constexpr std::string_view kChunked = "chunked";
    if (s.size() != kChunked.size()) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
      char c = s[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (c != kChunked[i]) return false;
    }
    return true;
  }

  bool seen_ = false, empty_field_ = false, last_chunked_ = false;
  int chunked_ = 0;
};

}  // namespace llmtap
