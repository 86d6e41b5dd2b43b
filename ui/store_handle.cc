#include "ui/store_handle.h"

#include <sys/stat.h>

namespace llmtap::ui {

std::shared_ptr<const report::StoreTraceSource> StoreHandle::source(std::string* error) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!source_) source_ = report::StoreTraceSource::open(path_, error);
  return source_;
}

std::string StoreHandle::stamp() const {
  std::string out;
  for (const char* suffix : {"", "-wal"}) {
    struct stat st {};
    if (::stat((path_ + suffix).c_str(), &st) != 0) continue;
    out += std::to_string(st.st_size) + "." + std::to_string(st.st_mtim.tv_sec) + "." +
           std::to_string(st.st_mtim.tv_nsec) + ";";
  }
  return out;
}

}  // namespace llmtap::ui
