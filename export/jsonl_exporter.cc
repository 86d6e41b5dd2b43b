#include "export/jsonl_exporter.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

#include "export/span_json.h"

namespace llmtap::exporting {

std::unique_ptr<JsonlExporter> JsonlExporter::open(const std::string& path, std::string* error) {
  if (path.empty()) {
    *error = "jsonl export needs a path: --export jsonl=PATH (or jsonl=- for stdout)";
    return nullptr;
  }
  if (path == "-") return std::make_unique<JsonlExporter>(stdout, false);
  // Not through a symlink, and not into a file another user planted (they could read it): a regular
  // file of ours, or a device such as /dev/null.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
  std::string problem;
  struct stat st {};
  if (fd < 0 && errno == ELOOP)
    problem = path + " is a symbolic link; give the real path (or jsonl=- for stdout)";
  else if (fd < 0)
    problem = std::strerror(errno);
  else if (::fstat(fd, &st) != 0)
    problem = std::strerror(errno);
  else if (S_ISREG(st.st_mode) && st.st_uid != ::geteuid())
    problem = "it is owned by uid " + std::to_string(st.st_uid) + ", not by you";
  else if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode))
    problem = "not a regular file";
  FILE* f = problem.empty() ? ::fdopen(fd, "a") : nullptr;
  if (!f) {
    *error = "cannot open jsonl export file " + path + ": " + (problem.empty() ? std::strerror(errno) : problem);
    if (fd >= 0) ::close(fd);
    return nullptr;
  }
  return std::make_unique<JsonlExporter>(f, true, path);
}

JsonlExporter::~JsonlExporter() {
  if (owned_) std::fclose(out_);
  else std::fflush(out_);
  if (lost_spans_ > 0) spdlog::error("jsonl export {}: {} span(s) could not be written", name_, lost_spans_);
}

void JsonlExporter::on_trace(const Trace& trace) {
  std::string lines;
  for (const auto& s : trace.spans) lines += dump_json(span_to_json(s)) + "\n";
  std::lock_guard lock(mu_);
  errno = 0;
  bool ok = std::fwrite(lines.data(), 1, lines.size(), out_) == lines.size();
  ok = std::fflush(out_) == 0 && ok;
  if (!ok) {
    if (lost_spans_ == 0)
      spdlog::error("jsonl export {}: cannot write: {}", name_, errno ? std::strerror(errno) : "write error");
    lost_spans_ += trace.spans.size();
    std::clearerr(out_);
  }
}

void JsonlExporter::flush() {
  std::lock_guard lock(mu_);
  std::fflush(out_);
}

}  // namespace llmtap::exporting
