#pragma once
// Fail-open for storage: when the data directory cannot be written (read-only, full, not ours),
// llmtap still runs and forwards, with this run's files (CA copy, collector socket, store) in a
// private temporary directory, and says so.
#include <string>

namespace llmtap::cli {

// "" if DIR exists or can be created and a probe file can be written to it (then removed); otherwise
// why not, naming the file and the OS reason ("cannot write D/.llmtap-probe-1: No space left on device").
std::string probe_writable_dir(const std::string& dir);

// A new private directory $TMPDIR/llmtap-UID/run-XXXXXX holding copies of FROM's CA files when they
// can be read (apps that trust llmtap's CA keep working). "" and *error on failure.
std::string make_run_data_dir(const std::string& from, std::string* error);

}  // namespace llmtap::cli
