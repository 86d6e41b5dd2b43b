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

bool write_all(int fd, const std::string& bytes) {
  std::size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + off, bytes.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<std::size_t>(n);
  }
  return true;
}

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
  std::string record(kHeader, '\0');
  codec::encode_trace(trace, record);
  const std::size_t n = record.size() - kHeader;
  std::string header;
  put_u32(header, static_cast<std::uint32_t>(n));
  put_u32(header, static_cast<std::uint32_t>(
                      ::crc32(0, reinterpret_cast<const Bytef*>(record.data() + kHeader), static_cast<uInt>(n))));
  record.replace(0, kHeader, header);
  std::lock_guard lock(mu_);
  if (max_bytes_ > 0 && usage_locked() + record.size() > max_bytes_) {
    *error = dir_ + " holds " + std::to_string(usage_ >> 20) + " MB, its cap is " + std::to_string(max_bytes_ >> 20) +
             " MB";
    if (full) *full = true;
    return false;
  }
  if (!open_segment(error)) return false;
  if (!write_all(fd_, record)) {
    *error = "cannot write " + path_ + ": " + std::strerror(errno);
    return false;
  }
  usage_ += record.size();
  ++records_;
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
  Trace t;
  while (next(t))
    if (!spool.append(t, error)) return false;
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
