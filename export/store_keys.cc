#include "export/store_keys.h"

namespace llmtap::exporting {

KeyTable::KeyTable(sqlite3* db, bool writable) : db_(db) {
  if (writable) {
    insert_ = std::make_unique<sql::Stmt>(db, "INSERT OR IGNORE INTO attr_keys(key) VALUES(?1)");
    select_ = std::make_unique<sql::Stmt>(db, "SELECT id FROM attr_keys WHERE key=?1");
  }
}

bool KeyTable::load(std::string* error) {
  sql::Stmt all(db_, "SELECT id, key FROM attr_keys");
  if (!all.ok()) {
    if (error) *error = sqlite3_errmsg(db_);
    return false;
  }
  int rc;
  while ((rc = all.step()) == SQLITE_ROW) dict_.add(static_cast<std::uint64_t>(all.i64(0)), all.text(1));
  if (rc != SQLITE_DONE && error) *error = sqlite3_errmsg(db_);
  return rc == SQLITE_DONE;
}

std::int64_t KeyTable::id_for(std::string_view key) {
  if (std::int64_t id = dict_.find(key); id >= 0) return id;
  if (!insert_ || !insert_->ok() || !select_->ok()) return -1;
  if (!insert_->bind(1, key).exec()) return -1;
  std::int64_t id = -1;
  if (select_->bind(1, key).step() == SQLITE_ROW) id = select_->i64(0);
  select_->reset();
  if (id >= 0) dict_.add(static_cast<std::uint64_t>(id), std::string(key));
  return id;
}

}  // namespace llmtap::exporting
