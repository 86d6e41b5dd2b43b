#pragma once
// Streaming Content-Encoding decoder: gzip, deflate (zlib-wrapped or raw), br, zstd, identity, and
// chains of them ("gzip, br"), using zlib, brotli and zstd. Sans-IO: encoded bytes in, decoded bytes
// out. Bad or unsupported input puts it in a failed state; it never throws or crashes.
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace llmtap {

class ContentDecoder {
 public:
  // `content_encoding` is the header value (case-insensitive, comma-separated, applied in order).
  explicit ContentDecoder(std::string_view content_encoding);
  ~ContentDecoder();
  ContentDecoder(const ContentDecoder&) = delete;
  ContentDecoder& operator=(const ContentDecoder&) = delete;

  // Decodes `in`, appending at most `max_out` bytes to `out`. Returns false once failed. When the
  // limit is hit, output stops and limit_reached() turns true (a decompression bomb stays bounded).
  bool feed(std::string_view in, std::string& out, std::size_t max_out = static_cast<std::size_t>(-1));
  // identity() only: what feed() would append to an output of `out_size` bytes, as a view of `in`
  // (no copy), with the same limit.
  std::string_view pass_through(std::string_view in, std::size_t out_size, std::size_t max_out);
  // End of input: true when every stage saw a complete stream (identity always does).
  bool finish();

  bool failed() const { return failed_; }
  bool limit_reached() const { return limit_reached_; }
  bool identity() const { return stages_.empty() && !failed_; }
  const std::string& error() const { return error_; }

  class Stage;  // one decoding step (implementation detail)

 private:
  std::vector<std::unique_ptr<Stage>> stages_;  // in decode order (reverse of header order)
  bool failed_ = false;
  bool limit_reached_ = false;
  std::string error_;
};

}  // namespace llmtap
