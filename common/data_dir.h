#pragma once
#include <string>

namespace llmtap {

// $LLMTAP_DATA_DIR, else $XDG_DATA_HOME/llmtap, else ~/.local/share/llmtap (SPEC.md).
std::string default_data_dir();

// Creates DIR (and parents) with mode 0700 if missing. Returns "" on success, else an error message.
std::string ensure_private_dir(const std::string& dir);

}  // namespace llmtap

namespace llmtap {

// A secret kept in the data directory (the proxy credential): reads PATH, or creates it with
// O_EXCL|O_NOFOLLOW, mode 0600, holding MAKE()'s result when missing. Refuses a symlink, a file
// owned by another user or one group/other can access, naming the fix. Returns "" on success.
std::string load_or_create_secret_file(const std::string& path, std::string (*make)(), std::string* content);

}  // namespace llmtap
