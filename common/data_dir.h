#pragma once
#include <string>

namespace llmtap {

// $LLMTAP_DATA_DIR, else $XDG_DATA_HOME/llmtap, else ~/.local/share/llmtap (SPEC.md).
std::string default_data_dir();

// Creates DIR (and parents) with mode 0700 if missing. Returns "" on success, else an error message.
std::string ensure_private_dir(const std::string& dir);

}  // namespace llmtap
