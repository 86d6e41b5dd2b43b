#include "export/disk_spool.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstring>
#include <spdlog/spdlog.h>

#include "common/data_dir.h"
#include "common/ids.h"

namespace llmtap::exporting {
namespace {

// batch-<seq 20 digits>-<spans>-<random>.<json|pb>
bool parse_name(const std::string& name, DiskSpool::Entry* e) {
  unsigned long long seq = 0, spans = 0;
  char rnd[17] = {};
  int used = 0;
  if (std::sscanf(name.c_str(), "batch-%20llu-%llu-%16[0-9a-f]%n", &seq, &spans, rnd, &used) != 3) return false;
  std::string suffix = name.substr(static_cast<std::size_t>(used));
  if (suffix != ".json" && suffix != ".pb") return false;
  e->seq = seq;
  e->spans = spans;
  e->suffix = suffix;
  return true;
}

bool process_alive(long pid) { return pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM); }

// ".tmp-<pid>-..." / ".sending-<pid>-<name>": the pid, or -1.
long owner_pid(const std::string& name, std::size_t prefix_len) {
  char* end = nullptr;
  long pid = std::strtol(name.c_str() + prefix_len, &end, 10);
  return end && *end == '-' ? pid : -1;
}

bool write_file_atomically(const std::string& dir, const std::string& final_name, std::string_view body,
                           std::string* error) {
  std::string tmp = dir + "/.tmp-" + std::to_string(::getpid()) + "-" + new_span_id();
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    *error = std::strerror(errno);
    return false;
  }
  std::size_t off = 0;
  while (off < body.size()) {
    ssize_t n = ::write(fd, body.data() + off, body.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      *error = std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      return false;
    }
    off += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0 || ::rename(tmp.c_str(), (dir + "/" + final_name).c_str()) != 0) {
    *error = std::strerror(errno);
    ::unlink(tmp.c_str());
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

}  // namespace

DiskSpool::DiskSpool(std::string dir, std::uint64_t max_bytes, std::size_t max_files)
    : dir_(std::move(dir)), max_bytes_(max_bytes), max_files_(std::max<std::size_t>(1, max_files)) {}

std::string DiskSpool::open() {
  if (in_memory()) return "";
  if (auto err = ensure_private_dir(dir_); !err.empty()) return err;
  DIR* d = ::opendir(dir_.c_str());
  if (!d) return "cannot read spool directory " + dir_ + ": " + std::strerror(errno);
  std::vector<Entry> found;
  while (dirent* de = ::readdir(d)) {
    std::string name = de->d_name;
    std::string path = dir_ + "/" + name;
    if (name.rfind(".tmp-", 0) == 0) {
      // A write interrupted by a crash: never renamed, never complete. A live writer keeps its own.
      if (!process_alive(owner_pid(name, 5))) ::unlink(path.c_str());
      continue;
    }
    if (name.rfind(".sending-", 0) == 0) {
      // Claimed by a process that died while sending: back into the queue.
      long pid = owner_pid(name, 9);
      if (pid < 0 || process_alive(pid)) continue;
      std::string original = name.substr(name.find('-', 9) + 1);
      if (::rename(path.c_str(), (dir_ + "/" + original).c_str()) != 0) continue;
      name = original;
      path = dir_ + "/" + original;
    }
    Entry e;
    if (!parse_name(name, &e)) continue;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) continue;
    e.path = path;
    e.bytes = static_cast<std::uint64_t>(st.st_size);
    found.push_back(std::move(e));
  }
  ::closedir(d);
  std::sort(found.begin(), found.end(), [](const Entry& a, const Entry& b) {
    return a.seq != b.seq ? a.seq < b.seq : a.path < b.path;
  });
  for (auto& e : found) {
    bytes_ += e.bytes;
    next_seq_ = std::max(next_seq_, e.seq + 1);
    entries_.push_back(std::move(e));
  }
  if (!entries_.empty())
    spdlog::info("OTLP spool {}: {} batch(es), {} span(s) waiting from a previous run", dir_, entries_.size(),
                 spans());
  return "";
}

std::size_t DiskSpool::spans() const {
  std::size_t n = 0;
  for (const auto& e : entries_) n += e.spans;
  return n;
}

bool DiskSpool::push(std::string_view body, std::string_view suffix, std::size_t spans) {
  if (body.size() > max_bytes_) {
    ++dropped_batches_;
    dropped_spans_ += spans;
    spdlog::warn("OTLP spool: a batch of {} span(s) ({} bytes) exceeds the spool limit of {} bytes; dropped", spans,
                 body.size(), max_bytes_);
    return false;
  }
  std::uint64_t batches_before = dropped_batches_, spans_before = dropped_spans_;
  while (!entries_.empty() && (entries_.size() + 1 > max_files_ || bytes_ + body.size() > max_bytes_)) drop_oldest();
  if (dropped_batches_ != batches_before)
    spdlog::warn("OTLP spool full ({} files / {} bytes max): dropped {} oldest batch(es), {} span(s)", max_files_,
                 max_bytes_, dropped_batches_ - batches_before, dropped_spans_ - spans_before);

  Entry e;
  if (in_memory()) {
    e.seq = next_seq_++;
    e.spans = spans;
    e.suffix = std::string(suffix);
    e.bytes = body.size();
    e.body = std::string(body);
    bytes_ += e.bytes;
    entries_.push_back(std::move(e));
    return true;
  }
  char name[96];
  e.seq = next_seq_++;
  e.spans = spans;
  e.suffix = std::string(suffix);
  e.bytes = body.size();
  std::snprintf(name, sizeof name, "batch-%020" PRIu64 "-%zu-%s%s", e.seq, spans, new_span_id().c_str(),
                e.suffix.c_str());
  std::string error;
  if (!write_file_atomically(dir_, name, body, &error)) {
    ++dropped_batches_;
    dropped_spans_ += spans;
    spdlog::error("OTLP spool: cannot write a batch of {} span(s) to {}: {}; dropped", spans, dir_, error);
    return false;
  }
  e.path = dir_ + "/" + name;
  bytes_ += e.bytes;
  entries_.push_back(std::move(e));
  return true;
}

std::optional<std::string> DiskSpool::read(const Entry& e) const {
  if (in_memory()) return e.body;
  int fd = ::open(e.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return std::nullopt;
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

std::optional<std::string> DiskSpool::claim_oldest() {
  if (entries_.empty()) return std::nullopt;
  Entry& e = entries_.front();
  if (in_memory()) return e.body;
  if (e.claimed.empty()) {
    std::string base = e.path.substr(e.path.rfind('/') + 1);
    std::string claimed = dir_ + "/.sending-" + std::to_string(::getpid()) + "-" + base;
    if (::rename(e.path.c_str(), claimed.c_str()) != 0) return std::nullopt;  // another process has it
    e.claimed = claimed;
  }
  Entry view = e;
  view.path = e.claimed;
  return read(view);
}

void DiskSpool::unclaim_oldest() {
  if (entries_.empty() || entries_.front().claimed.empty()) return;
  Entry& e = entries_.front();
  if (::rename(e.claimed.c_str(), e.path.c_str()) == 0) e.claimed.clear();
}

void DiskSpool::pop_oldest() {
  if (entries_.empty()) return;
  const Entry& e = entries_.front();
  if (!in_memory()) ::unlink((e.claimed.empty() ? e.path : e.claimed).c_str());
  bytes_ -= entries_.front().bytes;
  entries_.pop_front();
}

void DiskSpool::drop_oldest() {
  ++dropped_batches_;
  dropped_spans_ += entries_.front().spans;
  pop_oldest();
}

}  // namespace llmtap::exporting
