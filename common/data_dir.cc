#include "common/data_dir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace llmtap {

std::string default_data_dir() {
  if (const char* d = std::getenv("LLMTAP_DATA_DIR"); d && *d) return d;
  if (const char* x = std::getenv("XDG_DATA_HOME"); x && *x) return std::string(x) + "/llmtap";
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : "/tmp") + "/.local/share/llmtap";
}

std::string ensure_private_dir(const std::string& dir) {
  if (dir.empty()) return "empty data directory path";
  std::string partial;
  std::size_t pos = 0;
  while (pos != std::string::npos) {
    pos = dir.find('/', pos + 1);
    partial = dir.substr(0, pos);
    if (partial.empty()) continue;
    if (::mkdir(partial.c_str(), 0700) != 0 && errno != EEXIST)
      return "cannot create directory " + partial + ": " + std::strerror(errno);
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return dir + " is not a directory";
  return "";
}

namespace {

std::string read_secret(int fd, const std::string& path, std::string* content) {
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return path + " is not a regular file";
  if (st.st_uid != ::geteuid()) return path + " belongs to another user; remove it (llmtap creates a new one)";
  if ((st.st_mode & 077) != 0) return path + " is readable by other users; run: chmod 600 " + path;
  if (st.st_size > 4096) return path + " is too large to be a credential";
  std::string out(static_cast<std::size_t>(st.st_size), '\0');
  ssize_t n = out.empty() ? 0 : ::read(fd, out.data(), out.size());
  if (n < 0) return "cannot read " + path + ": " + std::strerror(errno);
  out.resize(static_cast<std::size_t>(n));
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r' || out.back() == ' ')) out.pop_back();
  if (out.empty()) return path + " is empty; remove it (llmtap creates a new one)";
  *content = std::move(out);
  return "";
}

}  // namespace

std::string load_or_create_secret_file(const std::string& path, std::string (*make)(), std::string* content) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
      std::string e = read_secret(fd, path, content);
      ::close(fd);
      return e;
    }
    if (errno == ELOOP) return path + " is a symbolic link; remove it (llmtap creates a new one)";
    if (errno != ENOENT) return "cannot open " + path + ": " + std::strerror(errno);
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
      if (errno == EEXIST) continue;  // another llmtap created it first: read theirs
      return "cannot create " + path + ": " + std::strerror(errno);
    }
    std::string secret = make();
    std::string line = secret + "\n";
    bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
    ok = ::close(fd) == 0 && ok;
    if (!ok) {
      ::unlink(path.c_str());
      return "cannot write " + path + ": " + std::strerror(errno);
    }
    *content = std::move(secret);
    return "";
  }
  return "cannot create " + path + ": it keeps appearing and disappearing";
}

}  // namespace llmtap
