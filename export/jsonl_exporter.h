#pragma once
// --export jsonl=PATH: one span per line (JSON, see span_json.h); "-" writes to stdout.
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>

#include "common/sinks.h"

namespace llmtap::exporting {

class JsonlExporter : public TraceSink {
 public:
  // Appends to PATH (created 0600) or writes to stdout for "-". nullptr and *error on failure.
  static std::unique_ptr<JsonlExporter> open(const std::string& path, std::string* error);
  // Writes to an already open stream it does not own (tests, stdout).
  explicit JsonlExporter(FILE* out, bool owned = false, std::string name = "stdout")
      : out_(out), owned_(owned), name_(std::move(name)) {}
  ~JsonlExporter() override;  // logs how many spans could not be written, if any

  void on_trace(const Trace& trace) override;
  void flush() override;

 private:
  std::mutex mu_;
  FILE* out_;
  bool owned_;
  std::string name_;
  std::uint64_t lost_spans_ = 0;  // writes that failed (a full disk): counted, never silent
};

}  // namespace llmtap::exporting
