#pragma once
// Where llmtap keeps its CA, store, spool and collector socket, and the trust rule for it: a
// directory that another local user can change could hand llmtap their CA or take its socket, so it
// must be owned by this user, not writable by group or others, under parents only this user or
// root can change (SPEC.md, "Data directory").
#include <string>

namespace llmtap {

// $LLMTAP_DATA_DIR, else $XDG_DATA_HOME/llmtap, else $HOME/.local/share/llmtap, else
// $XDG_RUNTIME_DIR/llmtap; "" when none is set (never a shared directory such as /tmp).
std::string default_data_dir();

// Why default_data_dir() is "" and how to fix it.
std::string no_data_dir_message();

// Creates DIR (and missing parents) with mode 0700, then check_private_dir(DIR). Returns "" on
// success, else an error message naming the fix.
std::string ensure_private_dir(const std::string& dir);

// "" when DIR exists, is a directory owned by this user (effective uid) and not writable by group
// or others, and every directory on its path (as written and after resolving links) is owned by
// root or this user and writable by no one else unless sticky (as /tmp). Else the reason and fix.
std::string check_private_dir(const std::string& dir);

// What a directory llmtap wants to keep files in is good for. kUntrusted: it exists but another user
// could change it (check_private_dir fails): refuse, naming the fix, and never work around it.
// kUnusable: absent-and-uncreatable, or trusted but not writable (read-only, full): callers fail open
// (a private temporary directory, a fallback file, memory), saying so.
struct DataDirState {
  enum Verdict { kUsable, kUntrusted, kUnusable } verdict = kUsable;
  std::string reason;  // "" when kUsable
  bool usable() const { return verdict == kUsable; }
};

// ensure_private_dir(DIR), then a probe: a page written to a new file in DIR and removed again.
DataDirState prepare_data_dir(const std::string& dir);

}  // namespace llmtap

namespace llmtap {

// A secret kept in the data directory (the proxy credential): reads PATH, or creates it with
// O_EXCL|O_NOFOLLOW, mode 0600, holding MAKE()'s result when missing. Refuses a symlink, a file
// owned by another user or one group/other can access, naming the fix. Returns "" on success.
std::string load_or_create_secret_file(const std::string& path, std::string (*make)(), std::string* content);

}  // namespace llmtap
