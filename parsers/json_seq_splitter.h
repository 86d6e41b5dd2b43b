#pragma once
// Splits a streamed sequence of JSON values into complete value texts, incrementally: the
// JSON-array stream of Gemini's streamGenerateContent ("[{...},\r\n{...}]") and NDJSON (Ollama).
// It only tracks nesting and strings; each value is parsed afterwards. Top-level scalars are skipped.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace llmtap {

class JsonSeqSplitter {
 public:
  void feed(std::string_view bytes, std::vector<std::string>& out);
  bool in_value() const { return depth_ > 0; }  // a value was cut short so far
  std::size_t max_value_bytes = 64u << 20;

 private:
  bool decided_ = false;    // saw the first non-space byte
  bool array_mode_ = false; // the stream is one top-level array: its elements are the values
  bool ended_ = false;      // the top-level array closed
  int depth_ = 0;
  bool in_str_ = false, esc_ = false;
  std::string cur_;
};

}  // namespace llmtap
