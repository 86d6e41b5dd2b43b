#pragma once
// The viewer's way to the trace store: opened the first time it exists (the viewer may start before
// anything is recorded), then shared by every request. The stamp changes whenever the store's
// files do, so the page can poll cheaply for new traces.
#include <memory>
#include <mutex>
#include <string>

#include "report/trace_source.h"

namespace llmtap::ui {

class StoreHandle {
 public:
  explicit StoreHandle(std::string path) : path_(std::move(path)) {}
  const std::string& path() const { return path_; }
  // The store as a TraceSource; nullptr and *error (why there is none yet) otherwise.
  std::shared_ptr<const report::StoreTraceSource> source(std::string* error);
  // Size and modification time of traces.db and its write-ahead log: "" when there is no store.
  std::string stamp() const;

 private:
  const std::string path_;
  std::mutex mu_;
  std::shared_ptr<const report::StoreTraceSource> source_;
};

}  // namespace llmtap::ui
