#include "export/jsonl_exporter.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "export/span_json.h"

namespace llmtap::exporting {

std::unique_ptr<JsonlExporter> JsonlExporter::open(const std::string& path, std::string* error) {
  if (path.empty()) {
    *error = "jsonl export needs a path: --export jsonl=PATH (or jsonl=- for stdout)";
    return nullptr;
  }
  if (path == "-") return std::make_unique<JsonlExporter>(stdout, false);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  FILE* f = fd >= 0 ? ::fdopen(fd, "a") : nullptr;
  if (!f) {
    *error = "cannot open jsonl export file " + path + ": " + std::strerror(errno);
    if (fd >= 0) ::close(fd);
    return nullptr;
  }
  return std::make_unique<JsonlExporter>(f, true);
}

JsonlExporter::~JsonlExporter() {
  if (owned_) std::fclose(out_);
  else std::fflush(out_);
}

void JsonlExporter::on_trace(const Trace& trace) {
  std::string lines;
  for (const auto& s : trace.spans) lines += dump_json(span_to_json(s)) + "\n";
  std::lock_guard lock(mu_);
  std::fwrite(lines.data(), 1, lines.size(), out_);
  std::fflush(out_);
}

void JsonlExporter::flush() {
  std::lock_guard lock(mu_);
  std::fflush(out_);
}

}  // namespace llmtap::exporting
