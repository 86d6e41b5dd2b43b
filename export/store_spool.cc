#include "export/store_spool.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/clock.h"
#include "export/span_codec.h"

namespace llmtap::exporting {
namespace {

constexpr const char* kSuffix = ".spool";
constexpr std::size_t kHeader = 8;
constexpr std::uint32_t kMaxRecord = 1u << 30;

void put_u32(std::string& out, std::uint32_t v) {
  for (int k = 0; k < 4; ++k) out.push_back(static_cast<char>(v >> (8 * k)));
}
std::uint32_t get_u32(const char* p) {
  std::uint32_t v = 0;
  for (int k = 0; k < 4; ++k) v |= std::uint32_t{static_cast<unsigned char>(p[k])} << (8 * k);
  return v;
}

bool write_all(int fd, std::string_view bytes) {
  std::size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + off, bytes.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<std::size_t>(n);
  }
  return true;
}

// Copies FROM, from its file offset to its end, onto TO: in the kernel where it can, else read and
// written through a buffer. The bytes copied, or -1 (errno set).
std::int64_t copy_rest(int from, int to) {
  std::int64_t total = 0;
  for (;;) {
    const ssize_t n = ::copy_file_range(from, nullptr, to, nullptr, std::size_t{1} << 30, 0);
    if (n > 0) {
      total += n;
      continue;
    }
    if (n == 0) return total;
    if (errno == EINTR) continue;
    if (total == 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP)) break;
    return -1;
  }
  char chunk[1 << 16];
  for (;;) {
    const ssize_t n = ::read(from, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) return total;
    if (!write_all(to, std::string_view(chunk, static_cast<std::size_t>(n)))) return -1;
    total += n;
  }
}

// Appends TRACE to OUT as one record (header, then encode_trace() bytes).
void append_record(std::string& out, const Trace& trace) {
  const std::size_t at = out.size();
  out.append(kHeader, '\0');
  codec::encode_trace(trace, out);
  const std::size_t n = out.size() - at - kHeader;
  std::string header;
  put_u32(header, static_cast<std::uint32_t>(n));
  put_u32(header, static_cast<std::uint32_t>(
                      ::crc32(0, reinterpret_cast<const Bytef*>(out.data() + at + kHeader), static_cast<uInt>(n))));
  out.replace(at, kHeader, header);
}

// Records are encoded this many bytes at a time and written with one write().
constexpr std::size_t kWriteChunk = std::size_t{1} << 20;

bool is_segment(const std::string& name) {
  return name.size() > std::strlen(kSuffix) && name[0] != '.' &&
         name.compare(name.size() - std::strlen(kSuffix), std::string::npos, kSuffix) == 0;
}

}  // namespace

StoreSpool::~StoreSpool() {
  if (fd_ >= 0) ::close(fd_);
}

bool StoreSpool::open_segment(std::string* error) {
  if (fd_ >= 0) return true;
  if (::mkdir(dir_.c_str(), 0700) != 0 && errno != EEXIST) {
    *error = "cannot create " + dir_ + ": " + std::strerror(errno);
    return false;
  }
  struct stat st {};
  if (::lstat(dir_.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != ::geteuid()) {
    *error = dir_ + " is not a directory of this user";
    return false;
  }
  // Named by time so segments() returns the oldest first; created under a hidden name and locked
  // before it becomes visible, so no other process can claim it while it is being written.
  char name[96];
  std::snprintf(name, sizeof name, "%020lld-%d-%llu%s", static_cast<long long>(now_ns()), static_cast<int>(::getpid()),
                static_cast<unsigned long long>(seq_++), kSuffix);
  std::string path = dir_ + "/" + name, hidden = dir_ + "/." + name;
  int fd = ::open(hidden.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    *error = "cannot create " + hidden + ": " + std::strerror(errno);
    return false;
  }
  if (::flock(fd, LOCK_EX) != 0 || ::rename(hidden.c_str(), path.c_str()) != 0) {
    *error = "cannot set up " + path + ": " + std::strerror(errno);
    ::close(fd);
    ::unlink(hidden.c_str());
    return false;
  }
  fd_ = fd;
  path_ = path;
  records_ = 0;
  return true;
}

bool StoreSpool::append(const Trace& trace, std::string* error, bool* full) {
  return append_all(std::span<const Trace>(&trace, 1), error, full) == 1;
}

std::size_t StoreSpool::append_all(std::span<const Trace> traces, std::string* error, bool* full, Cap cap) {
  std::string chunk;
  std::vector<std::size_t> ends;  // where each record of CHUNK ends
  std::size_t written = 0;
  for (std::size_t i = 0; i < traces.size();) {
    // Encoded off the lock, a chunk at a time.
    chunk.clear();
    ends.clear();
    while (i < traces.size() && chunk.size() < kWriteChunk) {
      append_record(chunk, traces[i++]);
      ends.push_back(chunk.size());
    }
    std::lock_guard lock(mu_);
    std::size_t fit = ends.size();
    if (max_bytes_ > 0 && cap == Cap::kHeld) {
      const std::uint64_t used = usage_locked();
      fit = 0;
      while (fit < ends.size() && used + ends[fit] <= max_bytes_) ++fit;
    }
    if (fit > 0) {
      if (!open_segment(error)) return written;
      if (!write_all(fd_, std::string_view(chunk.data(), ends[fit - 1]))) {
        *error = "cannot write " + path_ + ": " + std::strerror(errno);
        return written;
      }
      usage_ += ends[fit - 1];
      records_ += fit;
      written += fit;
    }
    if (fit < ends.size()) {
      *error = dir_ + " holds " + std::to_string(usage_ >> 20) + " MB, its cap is " +
               std::to_string(max_bytes_ >> 20) + " MB";
      if (full) *full = true;
      return written;
    }
  }
  return written;
}

bool StoreSpool::append_moved(std::string_view buffered, int from, std::string* error) {
  std::lock_guard lock(mu_);
  if (!open_segment(error)) return false;
  if (!write_all(fd_, buffered)) {
    *error = "cannot write " + path_ + ": " + std::strerror(errno);
    return false;
  }
  const std::int64_t copied = copy_rest(from, fd_);
  if (copied < 0) {
    *error = "cannot copy into " + path_ + ": " + std::strerror(errno);
    return false;
  }
  usage_ += buffered.size() + static_cast<std::uint64_t>(copied);
  return true;
}

std::uint64_t StoreSpool::usage_locked() const {
  if (usage_known_) return usage_;
  usage_ = 0;
  if (DIR* d = ::opendir(dir_.c_str())) {
    while (dirent* e = ::readdir(d)) {
      struct stat st {};
      if (is_segment(e->d_name) && ::stat((dir_ + "/" + e->d_name).c_str(), &st) == 0)
        usage_ += static_cast<std::uint64_t>(st.st_size);
    }
    ::closedir(d);
  }
  usage_known_ = true;
  return usage_;
}

std::uint64_t StoreSpool::disk_bytes() const {
  std::lock_guard lock(mu_);
  return usage_locked();
}

void StoreSpool::recount() {
  std::lock_guard lock(mu_);
  usage_known_ = false;
}

std::pair<std::string, std::uint64_t> StoreSpool::rotate() {
  std::lock_guard lock(mu_);
  if (fd_ < 0) return {"", 0};
  ::close(fd_);  // releases the lock: the segment can now be claimed
  fd_ = -1;
  return {std::exchange(path_, ""), std::exchange(records_, 0)};
}

std::uint64_t StoreSpool::open_records() const {
  std::lock_guard lock(mu_);
  return records_;
}

std::vector<std::string> StoreSpool::segments() const {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir_.c_str());
  if (!d) return out;
  std::string open_path;
  {
    std::lock_guard lock(mu_);
    open_path = path_;
  }
  while (dirent* e = ::readdir(d)) {
    std::string path = dir_ + "/" + e->d_name;
    if (is_segment(e->d_name) && path != open_path) out.push_back(path);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

std::unique_ptr<SpoolSegment> SpoolSegment::claim(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return nullptr;
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != ::geteuid() ||
      ::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return nullptr;
  }
  // Claimed by another process and finished between our open and our lock: nothing left to read.
  struct stat now {};
  if (::stat(path.c_str(), &now) != 0 || now.st_ino != st.st_ino) {
    ::close(fd);
    return nullptr;
  }
  return std::unique_ptr<SpoolSegment>(new SpoolSegment(path, fd));
}

SpoolSegment::~SpoolSegment() { ::close(fd_); }

bool SpoolSegment::fill(std::size_t need) {
  if (pos_ > 0 && pos_ >= buf_.size() / 2) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  char chunk[1 << 16];
  while (buf_.size() - pos_ < need && !eof_) {
    ssize_t n = ::read(fd_, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) eof_ = true;
    else buf_.append(chunk, static_cast<std::size_t>(n));
  }
  return buf_.size() - pos_ >= need;
}

bool SpoolSegment::next(Trace& out) {
  if (damaged_) return false;
  if (!fill(kHeader)) {
    damaged_ = buf_.size() > pos_;  // a partial header: cut short
    return false;
  }
  const std::uint32_t n = get_u32(buf_.data() + pos_), crc = get_u32(buf_.data() + pos_ + 4);
  if (n > kMaxRecord || !fill(kHeader + n)) return damaged_ = true, false;
  std::string_view payload(buf_.data() + pos_ + kHeader, n);
  if (::crc32(0, reinterpret_cast<const Bytef*>(payload.data()), static_cast<uInt>(n)) != crc ||
      !codec::decode_trace(payload, out))
    return damaged_ = true, false;
  pos_ += kHeader + n;
  return true;
}

bool SpoolSegment::finish(StoreSpool& spool, std::string* error) {
  // The unread records are moved as they are, not decoded and encoded again: at a stop's deadline
  // the rest of a large segment must take moments. A damaged record ended the reading: what follows
  // it is not kept.
  if (!damaged_ && (buf_.size() > pos_ || !eof_) &&
      !spool.append_moved(std::string_view(buf_).substr(pos_), fd_, error))
    return false;
  if (::unlink(path_.c_str()) != 0 && errno != ENOENT) {
    *error = "cannot remove " + path_ + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

std::uint64_t count_spooled(const std::string& dir) {
  StoreSpool spool(dir);
  std::uint64_t n = 0;
  for (const auto& path : spool.segments()) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    // Counted without the lock: a writer may hold it.
    std::string header(kHeader, '\0');
    off_t off = 0;
    for (;;) {
      if (::pread(fd, header.data(), kHeader, off) != static_cast<ssize_t>(kHeader)) break;
      off += static_cast<off_t>(kHeader + get_u32(header.data()));
      struct stat st {};
      if (::fstat(fd, &st) != 0 || off > st.st_size) break;
      ++n;
    }
    ::close(fd);
  }
  return n;
}

}  // namespace llmtap::exporting
