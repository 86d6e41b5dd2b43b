#include "common/private_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "common/ids.h"

namespace llmtap {
namespace {

std::string octal_mode(mode_t m) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(m & 07777));
  return buf;
}

}  // namespace

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

std::string parent_dir(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

int open_owned_file(const std::string& path, int flags, mode_t create_mode, mode_t forbidden_mode,
                    std::string* error) {
  int fd = ::open(path.c_str(), flags | O_NOFOLLOW | O_CLOEXEC, create_mode);
  if (fd < 0) {
    int e = errno;
    struct stat lst {};
    if (e == ELOOP || (::lstat(path.c_str(), &lst) == 0 && S_ISLNK(lst.st_mode)))
      *error = path + " is a symbolic link; llmtap does not follow links for its own files: remove it";
    else
      *error = "cannot open " + path + ": " + std::strerror(e);
    return -1;
  }
  struct stat st {};
  std::string problem;
  if (::fstat(fd, &st) != 0) problem = "cannot inspect " + path + ": " + std::strerror(errno);
  else if (!S_ISREG(st.st_mode)) problem = path + " is not a regular file: remove it";
  else if (st.st_uid != ::geteuid())
    problem = path + " is owned by uid " + std::to_string(st.st_uid) + ", not by you (uid " +
              std::to_string(::geteuid()) + "): remove it";
  else if ((st.st_mode & forbidden_mode) != 0)
    problem = path + " has mode " + octal_mode(st.st_mode) + ", open to group or others";
  if (!problem.empty()) {
    ::close(fd);
    *error = problem;
    return -1;
  }
  return fd;
}

bool read_owned_file(const std::string& path, mode_t forbidden_mode, std::size_t max_bytes, std::string* out,
                     std::string* error) {
  int fd = open_owned_file(path, O_RDONLY, 0, forbidden_mode, error);
  if (fd < 0) return false;
  out->clear();
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *error = "cannot read " + path + ": " + std::strerror(errno);
      ::close(fd);
      return false;
    }
    if (n == 0) break;
    if (out->size() + static_cast<std::size_t>(n) > max_bytes) {
      *error = path + " is larger than " + std::to_string(max_bytes) + " bytes";
      ::close(fd);
      return false;
    }
    out->append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return true;
}

std::string write_new_file(const std::string& path, std::string_view content, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) return "cannot create " + path + ": " + std::strerror(errno);
  int err = 0;
  errno = 0;  // a write of 0 bytes sets none
  if (!write_all(fd, content)) err = errno != 0 ? errno : EIO;
  else if (::fsync(fd) != 0) err = errno;
  ::close(fd);
  if (err == 0) return "";
  ::unlink(path.c_str());
  return "cannot write " + path + ": " + std::strerror(err);
}

bool write_file_atomically(const std::string& path, std::string_view content, mode_t mode, std::string* error) {
  const std::string dir = parent_dir(path);
  std::string tmp;
  int fd = -1;
  for (int attempt = 0; attempt < 8 && fd < 0; ++attempt) {
    tmp = dir + "/.tmp-" + std::to_string(::getpid()) + "-" + new_span_id();
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0) {
    *error = "cannot create a temporary file in " + dir + ": " + std::strerror(errno);
    return false;
  }
  bool ok = write_all(fd, content) && ::fchmod(fd, mode) == 0 && ::fsync(fd) == 0;
  int saved = errno;
  ok = (::close(fd) == 0) && ok;
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    if (ok) saved = errno;
    ::unlink(tmp.c_str());
    *error = "cannot write " + path + ": " + std::strerror(saved);
    return false;
  }
  // Make the rename durable too.
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return true;
}

}  // namespace llmtap
