#pragma once
// Checks on the SQLite store file itself, before it is trusted: the header (is this SQLite at all,
// is it cut short) and PRAGMA quick_check (zeroed or garbled pages). A damaged store is reported with
// its path and the reason, never read as empty; the writer sets it aside and starts a fresh one.
#include <string>

struct sqlite3;

namespace llmtap::exporting {

struct StoreCheck {
  // kUnreadable: could not be checked (permissions, locked by a recovering writer): not evidence of
  // damage, so a writer must not set it aside.
  enum Result { kSound, kDamaged, kUnreadable } result = kSound;
  std::string reason;  // e.g. "truncated: 5000 bytes, not a whole number of 4096-byte pages"
  bool ok() const { return result == kSound; }
};
// kSound when PATH is absent, empty (a fresh store) or passes the checks: the header ones and
// PRAGMA quick_check, which reads every page (seconds on a large store: writers run it at open).
StoreCheck check_store_file(const std::string& path);
// Only the header checks (is it SQLite, whole pages): constant time, for readers.
StoreCheck check_store_header(const std::string& path);

// Renames PATH (and its -wal/-shm files) to PATH.corrupt-YYYYMMDDTHHMMSSZ. The new name of the main
// file, or "" and *error (with the OS reason).
std::string set_aside_store_file(const std::string& path, std::string* error);

// sqlite3_errmsg plus the extended result code, e.g. "database or disk is full (SQLITE_FULL, 13)";
// RC is the code of the failed call (sqlite3_errmsg can say "not an error" once a later call succeeded).
std::string sqlite_reason(sqlite3* db, int rc);

}  // namespace llmtap::exporting
