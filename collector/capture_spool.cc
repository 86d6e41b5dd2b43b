#include "collector/capture_spool.h"

#include <dirent.h>
#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/ids.h"
#include "common/private_file.h"
#include "common/thread_priority.h"

namespace llmtap::capture {
namespace {

constexpr const char* kSuffix = ".seg";
constexpr std::size_t kSeqDigits = 20;
// Segments are numbered from here up; a stop's front segment takes the number below the oldest.
constexpr std::uint64_t kFirstSeq = std::uint64_t{1} << 40;

// The sequence number of a segment file name, or 0 for any other name.
std::uint64_t segment_seq(const char* name) {
  const std::size_t len = std::strlen(name);
  if (len != kSeqDigits + std::strlen(kSuffix) || std::strcmp(name + kSeqDigits, kSuffix) != 0) return 0;
  std::uint64_t seq = 0;
  for (std::size_t i = 0; i < kSeqDigits; ++i) {
    if (name[i] < '0' || name[i] > '9') return 0;
    seq = seq * 10 + static_cast<std::uint64_t>(name[i] - '0');
  }
  return seq;
}

std::uint64_t random_u64() {
  std::uint64_t v = 0;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&v), sizeof v) != 1) return 0;
  return v;
}

bool parse_hex_key(std::string_view text, Key& out) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  if (text.size() != 2 * kKeyBytes) return false;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < kKeyBytes; ++i) {
    const int hi = nibble(text[2 * i]), lo = nibble(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<unsigned char>(hi << 4 | lo);
  }
  return true;
}

// The connection directions a chunk's records touch (for the loss marker of an unwritten chunk).
std::set<std::pair<std::uint64_t, Direction>> directions_in(std::string_view plaintext) {
  std::set<std::pair<std::uint64_t, Direction>> out;
  RecordView rec;
  while (next_record(plaintext, rec, nullptr) == DecodeStatus::kRecord) {
    out.insert({rec.conn_id, Direction::kClientToServer});
    out.insert({rec.conn_id, Direction::kServerToClient});
  }
  return out;
}

}  // namespace

std::uint64_t random_run_id() { return random_u64() | std::uint64_t{1} << 63; }

std::unique_ptr<Spool> Spool::open(SpoolOptions opts, std::uint64_t run_id, std::string* error) {
  std::unique_ptr<Spool> spool(new Spool(std::move(opts), run_id));
  std::string e = spool->start();
  if (!e.empty()) {
    if (error) *error = std::move(e);
    return nullptr;
  }
  return spool;
}

std::string Spool::start() {
  const std::string& dir = opts_.dir;
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return "cannot create " + dir + ": " + std::strerror(errno);
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != ::geteuid() || (st.st_mode & 077) != 0)
    return dir + " is not a directory of this user that only this user can access (mode 0700)";
  lock_fd_ = ::open((dir + "/.lock").c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (lock_fd_ < 0) return "cannot open " + dir + "/.lock: " + std::strerror(errno);
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) return dir + " is in use by another llmtap process";

  std::vector<std::uint64_t> seqs;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* ent = ::readdir(d))
      if (std::uint64_t seq = segment_seq(ent->d_name)) seqs.push_back(seq);
    ::closedir(d);
  }
  std::sort(seqs.begin(), seqs.end());
  bool have_key = false;
  if (!seqs.empty()) {
    std::string text, why;
    have_key = read_owned_file(opts_.key_path, 077, 256, &text, &why) && parse_hex_key(text, key_);
    if (!have_key) {
      // Segments of a process that was killed before it could stop: no key opens them.
      spdlog::warn("capture spool: {} segment(s) in {} have no key ({}): discarded, their traffic is not traced",
                   seqs.size(), dir, why.empty() ? "the key file is malformed" : why);
      for (std::uint64_t seq : seqs) ::unlink(segment_path(seq).c_str());
      stats_.unreadable_segments = seqs.size();
    } else {
      for (std::uint64_t seq : seqs) {
        SpoolItem item;
        item.path = segment_path(seq);
        item.leftover = true;
        if (::stat(item.path.c_str(), &st) == 0) item.bytes = static_cast<std::uint64_t>(st.st_size);
        stats_.disk_bytes += item.bytes;
        sealed_.push_back(std::move(item));
      }
      stats_.leftover_segments = seqs.size();
      key_on_disk_ = true;
    }
  }
  if (!have_key) {
    if (RAND_bytes(key_.data(), static_cast<int>(key_.size())) != 1) return "no random bytes for the spool key";
    ::unlink(opts_.key_path.c_str());  // a stale key of an empty spool
    seqs.clear();
  }
  front_seq_ = seqs.empty() ? kFirstSeq - 1 : seqs.front() - 1;
  next_seq_ = seqs.empty() ? kFirstSeq : seqs.back() + 1;
  writer_ = std::thread([this] {
    name_this_thread("llmtap-capspool");
    writer_loop();
  });
  return "";
}

Spool::~Spool() {
  {
    std::lock_guard lock(mu_);
    stop_writer_ = true;
    wake_writer_.notify_all();
  }
  if (writer_.joinable()) writer_.join();
  if (opts_.budget) opts_.budget->release(MemoryBudget::Account::kCaptureQueue, open_chunk_.size());
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

std::string Spool::segment_path(std::uint64_t seq) const {
  char name[32];
  std::snprintf(name, sizeof name, "%020llu%s", static_cast<unsigned long long>(seq), kSuffix);
  return opts_.dir + "/" + name;
}

bool Spool::append(RecordKind kind, Direction dir, std::uint64_t conn_id, UnixNanos ts, std::string_view bytes,
                   const ConnectionInfo* info) {
  const std::size_t size = kRecordHeaderBytes + (kind == RecordKind::kData ? bytes.size()
                                                 : kind == RecordKind::kOpen && info ? encoded_info_size(*info)
                                                                                     : 0);
  std::lock_guard lock(mu_);
  if (broken_) return ++stats_.refused_broken, false;
  const std::uint64_t held = stats_.disk_bytes + stats_.pending_bytes + open_chunk_.size();
  // Once full it stays so until the reader has taken an eighth back: the drops then come as one
  // gap per connection direction, not a gap between every few records.
  if (full_ && held <= opts_.max_bytes - opts_.max_bytes / 8) full_ = false;
  if (size > kMaxChunkBytes) return ++stats_.refused_full, false;
  if (full_ || held + size + kChunkHeaderBytes + kTagBytes > opts_.max_bytes) {
    full_ = true;
    return ++stats_.refused_full, false;
  }
  if (!open_chunk_.empty() && open_chunk_.size() + size > opts_.chunk_bytes) {
    if (writer_behind_locked()) return ++stats_.refused_full, false;
    jobs_.push_back(Job{std::move(open_chunk_), std::exchange(open_records_, 0), false});
    stats_.pending_bytes += jobs_.back().plaintext.size();
    open_chunk_ = std::string();
    wake_writer_.notify_one();
  }
  try {
    if (open_chunk_.capacity() < opts_.chunk_bytes) open_chunk_.reserve(opts_.chunk_bytes);
    append_record(open_chunk_, kind, dir, conn_id, ts, bytes, info);
  } catch (...) {
    return ++stats_.refused_full, false;
  }
  if (opts_.budget) opts_.budget->charge(MemoryBudget::Account::kCaptureQueue, size);
  ++open_records_;
  ++stats_.records_appended;
  stats_.bytes_appended += bytes.size();
  return true;
}

bool Spool::writer_behind_locked() const {
  if (jobs_.size() < opts_.max_pending_chunks) return false;
  return jobs_.size() >= opts_.max_pending_chunks_in_budget || !opts_.budget ||
         !opts_.budget->fits_hard(open_chunk_.size());
}

bool Spool::has_unread() const {
  std::lock_guard lock(mu_);
  return !open_chunk_.empty() || !jobs_.empty() || writer_busy_ || seg_chunks_ > 0 || !sealed_.empty();
}

void Spool::seal() {
  std::lock_guard lock(mu_);
  stats_.pending_bytes += open_chunk_.size();
  jobs_.push_back(Job{std::move(open_chunk_), std::exchange(open_records_, 0), true});
  open_chunk_ = std::string();
  wake_writer_.notify_one();
}

std::optional<SpoolItem> Spool::take(bool wait) {
  std::unique_lock lock(mu_);
  if (wait) sealed_cv_.wait(lock, [&] { return !sealed_.empty() || (jobs_.empty() && !writer_busy_); });
  if (sealed_.empty()) return std::nullopt;
  SpoolItem item = std::move(sealed_.front());
  sealed_.pop_front();
  return item;
}

void Spool::remove(const SpoolItem& item) {
  if (item.path.empty()) return;
  ::unlink(item.path.c_str());
  {
    std::lock_guard lock(mu_);
    stats_.disk_bytes -= std::min(stats_.disk_bytes, item.bytes);
  }
  forget_key_if_empty();
}

void Spool::flush_to_disk() {
  seal();
  std::unique_lock lock(mu_);
  sealed_cv_.wait(lock, [&] { return jobs_.empty() && !writer_busy_; });
}

void Spool::writer_loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    wake_writer_.wait(lock, [&] { return !jobs_.empty() || stop_writer_; });
    if (jobs_.empty()) break;
    Job job = std::move(jobs_.front());
    jobs_.pop_front();
    writer_busy_ = true;
    lock.unlock();
    std::string error;
    const bool ok = job.plaintext.empty() || write_chunk(job.plaintext, &error);
    if (opts_.budget) opts_.budget->release(MemoryBudget::Account::kCaptureQueue, job.plaintext.size());
    lock.lock();
    stats_.pending_bytes -= std::min<std::uint64_t>(stats_.pending_bytes, job.plaintext.size());
    if (ok) {
      seg_records_ += job.records;
      if (!job.plaintext.empty()) ++seg_chunks_;
    } else {
      if (!broken_) spdlog::warn("capture spool: {}; capture that does not fit in memory is dropped from now on", error);
      broken_ = true;
      ++stats_.chunks_lost;
      close_segment_locked();  // what was written stays in order before the loss
      SpoolItem lost;
      lost.records = job.records;
      lost.lost = directions_in(job.plaintext);
      lost.lost_bytes = job.plaintext.size();
      sealed_.push_back(std::move(lost));
    }
    if (seg_fd_ >= 0 && (job.seal_after || seg_bytes_ >= opts_.segment_bytes)) close_segment_locked();
    writer_busy_ = false;
    sealed_cv_.notify_all();
  }
  close_segment_locked();
  sealed_cv_.notify_all();
}

bool Spool::write_chunk(const std::string& plaintext, std::string* error) {
  std::string& out = sealed_buf_;  // kept: a fresh 256 KB buffer per chunk faulted its pages in each time
  out.clear();
  if (seg_fd_ < 0) {
    const std::string path = segment_path(next_seq_++);
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return *error = "cannot create " + path + ": " + std::strerror(errno), false;
    seg_header_ = SegmentHeader{run_id_, random_u64()};
    append_segment_header(out, seg_header_);
    std::lock_guard lock(mu_);
    seg_fd_ = fd;
    seg_path_ = path;
    seg_bytes_ = seg_chunks_ = 0;
    seg_records_ = 0;
  }
  if (!seal_chunk(key_, seg_header_, seg_chunks_, plaintext, out)) return *error = "cannot seal a chunk", false;
  if (!write_all(seg_fd_, out)) {
    *error = "cannot write " + seg_path_ + ": " + std::strerror(errno);
    // Cut back to the last whole chunk so the segment stays readable.
    if (::ftruncate(seg_fd_, static_cast<off_t>(seg_bytes_)) != 0) {
    }
    return false;
  }
  std::lock_guard lock(mu_);
  seg_bytes_ += out.size();
  stats_.disk_bytes += out.size();
  return true;
}

void Spool::close_segment_locked() {
  if (seg_fd_ < 0) return;
  ::close(seg_fd_);
  seg_fd_ = -1;
  if (seg_chunks_ == 0) {
    ::unlink(seg_path_.c_str());
    stats_.disk_bytes -= std::min(stats_.disk_bytes, seg_bytes_);
  } else {
    SpoolItem item;
    item.path = seg_path_;
    item.bytes = seg_bytes_;
    item.records = seg_records_;
    sealed_.push_back(std::move(item));
  }
  seg_chunks_ = 0;
  seg_bytes_ = seg_records_ = 0;
  seg_path_.clear();
}

std::string Spool::read(const SpoolItem& item, const ChunkFn& on_chunk) const {
  int fd = ::open(item.path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return "cannot open " + item.path + ": " + std::strerror(errno);
  SegmentReader reader(key_);
  std::string buf(256u << 10, '\0'), plaintext, error;
  bool stopped = false;
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = "cannot read " + item.path + ": " + std::strerror(errno);
      break;
    }
    if (n == 0) {
      if (reader.partial()) error = item.path + " is cut short after its last whole chunk";
      break;
    }
    reader.feed(std::string_view(buf.data(), static_cast<std::size_t>(n)));
    SegmentReader::Status s;
    while ((s = reader.next(&plaintext, &error)) == SegmentReader::Status::kChunk)
      if (!on_chunk(reader.header(), plaintext)) {
        stopped = true;
        break;
      }
    if (stopped) break;
    if (s == SegmentReader::Status::kBad) {
      error = item.path + ": " + error;
      break;
    }
  }
  ::close(fd);
  return stopped ? "" : error;
}

std::unique_ptr<Spool::Front> Spool::begin_front(std::uint64_t run_id) {
  std::uint64_t seq;
  {
    std::lock_guard lock(mu_);
    seq = front_seq_--;
  }
  std::unique_ptr<Front> front(new Front(*this, segment_path(seq), SegmentHeader{run_id, random_u64()}));
  front->fd_ = ::open(front->path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (front->fd_ < 0) front->error_ = "cannot create " + front->path_ + ": " + std::strerror(errno);
  else append_segment_header(front->buf_, front->header_);
  return front;
}

void Spool::Front::add(std::string_view plaintext) {
  if (fd_ < 0 || !error_.empty() || plaintext.empty()) return;
  if (!seal_chunk(spool_.key_, header_, chunks_, plaintext, buf_)) {
    error_ = "cannot seal a chunk";
    return;
  }
  if (!write_all(fd_, buf_)) {
    error_ = "cannot write " + path_ + ": " + std::strerror(errno);
    return;
  }
  bytes_ += buf_.size();
  buf_.clear();
  ++chunks_;
}

std::string Spool::Front::finish() {
  if (finished_) return error_;
  finished_ = true;
  if (fd_ >= 0) {
    if (error_.empty() && ::fsync(fd_) != 0) error_ = "cannot sync " + path_ + ": " + std::strerror(errno);
    ::close(fd_);
    if (!error_.empty() || chunks_ == 0) {
      ::unlink(path_.c_str());
    } else {
      std::lock_guard lock(spool_.mu_);
      spool_.stats_.disk_bytes += bytes_;
    }
  }
  return error_;
}

std::vector<std::string> Spool::segments() const {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(opts_.dir.c_str())) {
    while (dirent* ent = ::readdir(d))
      if (segment_seq(ent->d_name)) out.push_back(opts_.dir + "/" + ent->d_name);
    ::closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string Spool::persist_key() {
  if (segments().empty()) {
    forget_key_if_empty();
    return "";
  }
  std::string e;
  if (!write_file_atomically(opts_.key_path, to_hex(key_.data(), key_.size()) + "\n", 0600, &e)) return e;
  key_on_disk_ = true;
  return "";
}

void Spool::forget_key_if_empty() {
  if (!key_on_disk_.load(std::memory_order_relaxed) || !segments().empty()) return;
  ::unlink(opts_.key_path.c_str());
  key_on_disk_ = false;
}

SpoolStats Spool::stats() const {
  std::lock_guard lock(mu_);
  SpoolStats s = stats_;
  s.pending_bytes += open_chunk_.size();
  return s;
}

}  // namespace llmtap::capture
