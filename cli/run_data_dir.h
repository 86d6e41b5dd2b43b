#pragma once
// Fail-open for storage: when the data directory cannot be written (read-only, full: see
// prepare_data_dir), llmtap still runs and forwards, with this run's files (CA copy, collector
// socket, store) in a private temporary directory, and says so. A directory another user could
// change is refused instead, never worked around.
#include <string>

namespace llmtap::cli {

// A new private directory $TMPDIR/llmtap-UID/run-XXXXXX holding copies of FROM's CA files when they
// can be read (apps that trust llmtap's CA keep working). "" and *error on failure.
std::string make_run_data_dir(const std::string& from, std::string* error);

}  // namespace llmtap::cli
