#include "cli/run_data_dir.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "common/data_dir.h"
#include "export/unstored_traces.h"

namespace llmtap::cli {
namespace {

std::string os_error(const std::string& what, const std::string& path, int err) {
  return what + " " + path + ": " + std::strerror(err);
}

// Writes DATA to a new file PATH (mode MODE); "" or the reason.
std::string write_new_file(const std::string& path, std::string_view data, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) return os_error("cannot create", path, errno);
  std::size_t off = 0;
  int err = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      err = n < 0 ? errno : EIO;
      break;
    }
    off += static_cast<std::size_t>(n);
  }
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  ::close(fd);
  if (err != 0) {
    ::unlink(path.c_str());
    return os_error("cannot write", path, err);
  }
  return "";
}

bool read_file(const std::string& path, std::string* out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[8192];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out->append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return n == 0;
}

}  // namespace

std::string probe_writable_dir(const std::string& dir) {
  if (std::string e = ensure_private_dir(dir); !e.empty()) return e;
  // A page of data, not an empty file: a full disk still lets an empty file be created.
  std::string probe = dir + "/.llmtap-probe-" + std::to_string(::getpid());
  ::unlink(probe.c_str());
  std::string err = write_new_file(probe, std::string(4096, '\0'), 0600);
  ::unlink(probe.c_str());
  return err;
}

std::string make_run_data_dir(const std::string& from, std::string* error) {
  std::string parent = exporting::private_temp_dir(error);
  if (parent.empty()) return "";
  std::string templ = parent + "/run-XXXXXX";
  if (!::mkdtemp(templ.data())) {
    *error = os_error("cannot create", templ, errno);
    return "";
  }
  std::string key, cert;
  if (read_file(from + "/ca-key.pem", &key) && read_file(from + "/ca.pem", &cert)) {
    if (std::string e = write_new_file(templ + "/ca-key.pem", key, 0600); e.empty())
      write_new_file(templ + "/ca.pem", cert, 0644);
  }
  return templ;
}

}  // namespace llmtap::cli
