#include "cli/run_data_dir.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "common/private_file.h"
#include "export/unstored_traces.h"

namespace llmtap::cli {
namespace {

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

std::string make_run_data_dir(const std::string& from, std::string* error) {
  std::string parent = exporting::private_temp_dir(error);
  if (parent.empty()) return "";
  std::string templ = parent + "/run-XXXXXX";
  if (!::mkdtemp(templ.data())) {
    *error = "cannot create " + templ + ": " + std::strerror(errno);
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
