#pragma once
// End-user ids seen on the wire are personal data: by default they are recorded only as a keyed
// hash (HMAC-SHA256 with a random salt kept 0600 in the data directory), stable per data directory,
// so one user's calls still group together while the id itself never reaches a store or export.
#include <string>
#include <string_view>

namespace llmtap {

inline constexpr const char* kUserIdSaltFile = "user-id-salt";

// "h_" + the first 32 hex digits of HMAC-SHA256(SALT, ID).
std::string hash_user_id(std::string_view salt, std::string_view id);

// The salt in DATA_DIR/user-id-salt, created (32 random bytes, hex, mode 0600) when absent.
// "" and *error when it can neither be read nor created.
std::string load_or_create_user_id_salt(const std::string& data_dir, std::string* error);

}  // namespace llmtap
