#include "export/disk_spool.h"

#include <dirent.h>
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
#include "common/private_file.h"

namespace llmtap::exporting {
namespace {

// batch-<seq 20 digits>-<spans>-<random>-<policy>-<writer pid>.<json|pb>
enum class NameKind { kOther, kBatch, kLegacyBatch };
NameKind parse_name(const std::string& name, DiskSpool::Entry* e) {
  unsigned long long seq = 0, spans = 0;
  long pid = 0;
  char rnd[17] = {}, policy[17] = {};
  int used = 0;
  NameKind kind = NameKind::kBatch;
  if (std::sscanf(name.c_str(), "batch-%20llu-%llu-%16[0-9a-f]-%16[0-9a-f]-%ld%n", &seq, &spans, rnd, policy, &pid,
                  &used) != 5) {
    // Written before batches recorded their destination: where they were meant to go is unknown.
    if (std::sscanf(name.c_str(), "batch-%20llu-%llu-%16[0-9a-f]%n", &seq, &spans, rnd, &used) != 3)
      return NameKind::kOther;
    kind = NameKind::kLegacyBatch;
  }
  std::string suffix = name.substr(static_cast<std::size_t>(used));
  if (suffix != ".json" && suffix != ".pb") return NameKind::kOther;
  e->seq = seq;
  e->spans = spans;
  e->suffix = suffix;
  e->policy = policy;
  e->writer_pid = pid;
  return kind;
}

bool process_alive(long pid) { return pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM); }

// ".tmp-<pid>-..." / ".sending-<pid>-<name>": the pid, or -1.
long owner_pid(const std::string& name, std::size_t prefix_len) {
  char* end = nullptr;
  long pid = std::strtol(name.c_str() + prefix_len, &end, 10);
  return end && *end == '-' ? pid : -1;
}

}  // namespace

DiskSpool::DiskSpool(std::string dir, std::uint64_t max_bytes, std::size_t max_files, std::string policy)
    : dir_(std::move(dir)),
      max_bytes_(max_bytes),
      max_files_(std::max<std::size_t>(1, max_files)),
      policy_(policy.empty() ? std::string(16, '0') : std::move(policy)) {}

std::string DiskSpool::open() {
  if (in_memory()) return "";
  if (auto err = ensure_private_dir(dir_); !err.empty()) return err;
  DIR* d = ::opendir(dir_.c_str());
  if (!d) return "cannot read spool directory " + dir_ + ": " + std::strerror(errno);
  std::vector<Entry> found;
  std::uint64_t foreign_batches = 0, foreign_spans = 0;
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
    NameKind kind = parse_name(name, &e);
    if (kind == NameKind::kOther) continue;
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (kind == NameKind::kLegacyBatch || e.policy != policy_) {
      // Meant for another endpoint, other headers or another content setting: never sent from here.
      // A live process with that policy still owns its batches; those of a dead one are dropped.
      if (kind == NameKind::kBatch && e.writer_pid != ::getpid() && process_alive(e.writer_pid)) continue;
      if (::unlink(path.c_str()) == 0) {
        ++foreign_batches;
        foreign_spans += e.spans;
      }
      continue;
    }
    e.path = path;
    e.bytes = static_cast<std::uint64_t>(st.st_size);
    found.push_back(std::move(e));
  }
  ::closedir(d);
  if (foreign_batches > 0) {
    dropped_batches_ += foreign_batches;
    dropped_spans_ += foreign_spans;
    spdlog::warn("OTLP spool {}: dropped {} batch(es), {} span(s) spooled for another endpoint, header set or "
                 "content-capture setting (a batch is delivered only where and as it was meant to be)",
                 dir_, foreign_batches, foreign_spans);
  }
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
  char name[128];
  e.seq = next_seq_++;
  e.spans = spans;
  e.suffix = std::string(suffix);
  e.bytes = body.size();
  std::snprintf(name, sizeof name, "batch-%020" PRIu64 "-%zu-%s-%s-%ld%s", e.seq, spans, new_span_id().c_str(),
                policy_.c_str(), static_cast<long>(::getpid()), e.suffix.c_str());
  std::string error;
  if (!write_file_atomically(dir_ + "/" + name, body, 0600, &error)) {
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
  // Our own 0600 file, not a link: a batch is sent with the endpoint's credentials.
  std::string out, error;
  if (!read_owned_file(e.path, 077, max_bytes_, &out, &error)) return std::nullopt;
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
