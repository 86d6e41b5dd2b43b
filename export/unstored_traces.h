#pragma once
// Where traces go when the trace store cannot take them (disk full, read-only, damaged): one span per
// line (span_json) appended to a 0600 file in a private temporary directory, which is usually on
// another file system than the data directory. Not thread-safe: the store's writer thread owns it.
#include <string>
#include <vector>

#include "common/span.h"

namespace llmtap::exporting {

// $TMPDIR/llmtap-UID (else /tmp/llmtap-UID), created 0700; refuses a directory that is a symlink,
// not owned by this user or open to others. "" and *error on failure.
std::string private_temp_dir(std::string* error);

class UnstoredTraces {
 public:
  // The file is named after STORE_NAME and the pid, and created on the first write.
  explicit UnstoredTraces(std::string store_name) : store_name_(std::move(store_name)) {}
  ~UnstoredTraces();
  UnstoredTraces(const UnstoredTraces&) = delete;
  UnstoredTraces& operator=(const UnstoredTraces&) = delete;

  // Appends every span of TRACES; false (and error()) if any of it could not be written.
  bool write(const std::vector<Trace>& traces);
  const std::string& path() const { return path_; }
  const std::string& error() const { return error_; }

 private:
  bool open_file();

  std::string store_name_, path_, error_;
  int fd_ = -1;
};

}  // namespace llmtap::exporting
