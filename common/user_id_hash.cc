#include "common/user_id_hash.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace llmtap {
namespace {

std::string to_hex(const unsigned char* p, std::size_t n) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[p[i] >> 4]);
    out.push_back(kDigits[p[i] & 0xF]);
  }
  return out;
}

bool valid_salt(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

std::string read_salt(const std::string& path) {
  std::ifstream in(path);
  std::string s;
  std::getline(in, s);
  return s;
}

}  // namespace

std::string hash_user_id(std::string_view salt, std::string_view id) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), salt.data(), static_cast<int>(salt.size()), reinterpret_cast<const unsigned char*>(id.data()),
           id.size(), mac, &len) == nullptr)
    return "h_unavailable";
  return "h_" + to_hex(mac, 16);
}

std::string load_or_create_user_id_salt(const std::string& data_dir, std::string* error) {
  const std::string path = data_dir + "/" + kUserIdSaltFile;
  if (std::string s = read_salt(path); valid_salt(s)) return s;
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    *error = "cannot generate a salt for user ids";
    return "";
  }
  const std::string salt = to_hex(bytes, sizeof bytes);
  // Write a private temporary file, then link it in place: two llmtaps starting at once agree on
  // the first salt written, and a reader never sees a partial one.
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    *error = "cannot create " + tmp + ": " + std::strerror(errno);
    return "";
  }
  const std::string line = salt + "\n";
  bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (ok && ::link(tmp.c_str(), path.c_str()) != 0 && errno != EEXIST) ok = false;
  ::unlink(tmp.c_str());
  if (!ok) {
    *error = "cannot write " + path + ": " + std::strerror(errno);
    return "";
  }
  std::string stored = read_salt(path);
  if (!valid_salt(stored)) {
    *error = path + " is not a user-id salt (64 hex digits); remove it to make a new one";
    return "";
  }
  return stored;
}

}  // namespace llmtap
