#pragma once
// Hand-built traces for export tests (trace/ is tested on its own; export depends only on span.h).
#include <string>

#include "common/span.h"
#include "common/test_temp_dir.h"

namespace llmtap::exporting::testing {

inline constexpr UnixNanos kT0 = 1'763'000'000'000'000'000;  // a fixed wall-clock origin
inline constexpr UnixNanos kMs = 1'000'000;

// workflow "Support Agent" [380ms, $0.014] with a tool, a priced generation, a handoff and the
// Billing agent nested under the handoff (with a failing tool). SECRET, if given, is planted in
// content attributes and a header-like attribute to test redaction.
Trace support_trace(const std::string& trace_id = "0af7651916cd43dd8448eb211c80319c",
                    const std::string& secret = "");

// A private temporary directory, removed with its contents.
struct TempDir : test_support::TempDir {
  TempDir() : test_support::TempDir("llmtap-export") {}
};

// True if any regular file under DIR (recursively) contains NEEDLE.
bool any_file_contains(const std::string& dir, const std::string& needle);
// Number of regular files directly in DIR.
std::size_t file_count(const std::string& dir);

// A minimal one-span trace with ids derived from N (unique per N).
Trace numbered_trace(int n, int spans = 1);

}  // namespace llmtap::exporting::testing
