#pragma once
// The store's attribute key table (attr_keys: id <-> key), cached in a KeyDictionary. Ids are
// assigned by SQLite inside the writer's transaction, so two processes writing one store agree on
// them; a key added by a rolled-back transaction is forgotten with it (mark/rollback).
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "export/span_codec.h"
#include "export/sqlite_util.h"

namespace llmtap::exporting {

class KeyTable {
 public:
  explicit KeyTable(sqlite3* db, bool writable);
  // Reads every known key; false (and *error) if the table cannot be read.
  bool load(std::string* error = nullptr);
  // The id of KEY, added to the table if new (writer, inside a transaction); -1 on an error.
  std::int64_t id_for(std::string_view key);
  codec::KeyDictionary& dictionary() { return dict_; }
  const codec::KeyDictionary& dictionary() const { return dict_; }

 private:
  sqlite3* db_;
  codec::KeyDictionary dict_;
  std::unique_ptr<sql::Stmt> insert_, select_;
};

}  // namespace llmtap::exporting
