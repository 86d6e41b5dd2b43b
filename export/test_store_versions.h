#pragma once
// Stores as earlier schema versions left them, made from a store written now, for the migration
// tests (each older version's tests downgrade further from here).
#include <string>

namespace llmtap::exporting::testing {

// Rewrites the store at PATH (schema 6, closed) as schema 5 had it: traces keyed by their id text
// with an implicit rowid, spans naming their trace id. "" or the SQLite error.
std::string downgrade_store_to_v5(const std::string& path);

}  // namespace llmtap::exporting::testing
