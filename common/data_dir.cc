#include "common/data_dir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "common/private_file.h"

namespace llmtap {
namespace {

std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : std::string();
}

std::string octal_mode(mode_t m) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(m & 07777));
  return buf;
}

const char* kChooseAnother = "choose a data directory under a path only you and root can change "
                             "(--data-dir DIR or $LLMTAP_DATA_DIR)";

// Every directory on PATH's way down (not PATH itself): owned by root or us, and not writable by
// anyone else unless sticky, so no other user can swap the entry that leads further down.
std::string check_parents(const std::string& path, const std::string& shown_as) {
  const uid_t me = ::geteuid();
  auto check = [&](const std::string& prefix) -> std::string {
    struct stat st {};
    if (::stat(prefix.c_str(), &st) != 0) return "cannot inspect " + prefix + ": " + std::strerror(errno);
    if (st.st_uid != 0 && st.st_uid != me)
      return "data directory " + shown_as + ": " + prefix + " on its path is owned by uid " +
             std::to_string(st.st_uid) + " (another user could replace what is below it); " + kChooseAnother;
    if ((st.st_mode & 022) != 0 && (st.st_mode & S_ISVTX) == 0)
      return "data directory " + shown_as + ": " + prefix + " on its path is writable by group or others (mode " +
             octal_mode(st.st_mode) + ", not sticky); " + kChooseAnother;
    return "";
  };
  if (auto e = check("/"); !e.empty()) return e;
  for (std::size_t pos = path.find('/', 1); pos != std::string::npos; pos = path.find('/', pos + 1))
    if (auto e = check(path.substr(0, pos)); !e.empty()) return e;
  return "";
}

}  // namespace

std::string default_data_dir() {
  if (auto d = env_or_empty("LLMTAP_DATA_DIR"); !d.empty()) return d;
  if (auto x = env_or_empty("XDG_DATA_HOME"); !x.empty()) return x + "/llmtap";
  if (auto h = env_or_empty("HOME"); !h.empty()) return h + "/.local/share/llmtap";
  // A per-user runtime directory (0700, the user's own) is safe, if not kept across logins.
  if (auto r = env_or_empty("XDG_RUNTIME_DIR"); !r.empty()) return r + "/llmtap";
  return "";
}

std::string no_data_dir_message() {
  return "no data directory: HOME is not set (nor LLMTAP_DATA_DIR, XDG_DATA_HOME or XDG_RUNTIME_DIR); "
         "set LLMTAP_DATA_DIR or pass --data-dir DIR (a directory only you can write)";
}

std::string ensure_private_dir(const std::string& dir) {
  if (dir.empty()) return no_data_dir_message();
  std::string partial;
  std::size_t pos = 0;
  while (pos != std::string::npos) {
    pos = dir.find('/', pos + 1);
    partial = dir.substr(0, pos);
    if (partial.empty()) continue;
    if (::mkdir(partial.c_str(), 0700) != 0 && errno != EEXIST)
      return "cannot create directory " + partial + (partial == dir ? "" : " (for data directory " + dir + ")") +
             ": " + std::strerror(errno);
  }
  return check_private_dir(dir);
}

std::string check_private_dir(const std::string& dir) {
  if (dir.empty()) return no_data_dir_message();
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return "cannot inspect data directory " + dir + ": " + std::strerror(errno);
  if (!S_ISDIR(st.st_mode)) return dir + " is not a directory";
  const uid_t me = ::geteuid();
  if (st.st_uid != me)
    return "data directory " + dir + " is owned by uid " + std::to_string(st.st_uid) + ", not by you (uid " +
           std::to_string(me) + "): another user could plant a CA or a collector socket there; use a directory "
           "you own (--data-dir DIR or $LLMTAP_DATA_DIR), or if it is yours: chown " + std::to_string(me) + " " + dir;
  if ((st.st_mode & 022) != 0)
    return "data directory " + dir + " is writable by group or others (mode " + octal_mode(st.st_mode) +
           "): run `chmod 700 " + dir + "`";
  std::string absolute = dir;
  if (dir.front() != '/') {
    char cwd[PATH_MAX];
    if (!::getcwd(cwd, sizeof cwd)) return std::string("cannot resolve the current directory: ") + std::strerror(errno);
    absolute = std::string(cwd) + "/" + dir;
  }
  if (auto e = check_parents(absolute, dir); !e.empty()) return e;
  char real[PATH_MAX];
  if (!::realpath(dir.c_str(), real)) return "cannot resolve data directory " + dir + ": " + std::strerror(errno);
  if (absolute != real)
    if (auto e = check_parents(real, dir); !e.empty()) return e;
  return "";
}

DataDirState prepare_data_dir(const std::string& dir) {
  if (std::string e = ensure_private_dir(dir); !e.empty()) {
    // Something is at DIR (a directory, a file, a link) and fails the trust check: a refusal. Only
    // a DIR that is not there and cannot be made is merely unusable.
    struct stat st {};
    bool there = !dir.empty() && ::lstat(dir.c_str(), &st) == 0;
    if (there && !check_private_dir(dir).empty()) return {DataDirState::kUntrusted, e};
    return {DataDirState::kUnusable, e};
  }
  // A page of data, not an empty file: a full disk still lets an empty file be created.
  std::string probe = dir + "/.llmtap-probe-" + std::to_string(::getpid());
  ::unlink(probe.c_str());
  std::string e = write_new_file(probe, std::string(4096, '\0'), 0600);
  ::unlink(probe.c_str());
  if (!e.empty()) return {DataDirState::kUnusable, e};
  return {};
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
