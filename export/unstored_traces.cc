#include "export/unstored_traces.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "export/span_json.h"

namespace llmtap::exporting {

std::string private_temp_dir(std::string* error) {
  const char* tmp = std::getenv("TMPDIR");
  std::string dir = std::string(tmp && *tmp ? tmp : "/tmp") + "/llmtap-" + std::to_string(::getuid());
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    *error = "cannot create " + dir + ": " + std::strerror(errno);
    return "";
  }
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) {
    *error = "cannot inspect " + dir + ": " + std::strerror(errno);
    return "";
  }
  if (!S_ISDIR(st.st_mode) || st.st_uid != ::getuid() || (st.st_mode & 077) != 0) {
    *error = dir + " is not a private directory of this user (a symlink, another owner, or open to others)";
    return "";
  }
  return dir;
}

UnstoredTraces::~UnstoredTraces() {
  if (fd_ >= 0) ::close(fd_);
}

bool UnstoredTraces::open_file() {
  if (fd_ >= 0) return true;
  std::string dir = private_temp_dir(&error_);
  if (dir.empty()) return false;
  path_ = dir + "/unstored-" + store_name_ + "-" + std::to_string(::getpid()) + ".jsonl";
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd_ < 0) {
    error_ = "cannot open " + path_ + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

bool UnstoredTraces::write(const std::vector<Trace>& traces) {
  if (!open_file()) return false;
  std::string lines;
  for (const auto& t : traces)
    for (const auto& s : t.spans) lines += dump_json(span_to_json(s)) + "\n";
  std::size_t off = 0;
  while (off < lines.size()) {
    ssize_t n = ::write(fd_, lines.data() + off, lines.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error_ = "cannot write " + path_ + ": " + std::strerror(n < 0 ? errno : EIO);
      return false;
    }
    off += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace llmtap::exporting
