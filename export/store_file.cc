#include "export/store_file.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <ctime>

#include "export/sqlite_util.h"

namespace llmtap::exporting {
namespace {

constexpr std::size_t kHeaderSize = 100;  // https://www.sqlite.org/fileformat2.html#the_database_header

// Header checks a zeroed or cut file fails; "" if the header looks like a sound SQLite database.
std::string check_header(const unsigned char* h, std::uint64_t file_size) {
  if (std::memcmp(h, "SQLite format 3", 16) != 0) return "not an SQLite database (bad file header)";
  std::uint32_t page_size = (std::uint32_t{h[16]} << 8) | h[17];
  if (page_size == 1) page_size = 65536;
  if (page_size < 512 || page_size > 65536 || (page_size & (page_size - 1)) != 0)
    return "damaged file header (page size " + std::to_string(page_size) + ")";
  // SQLite writes whole pages. (The in-header page count is not compared with the size: a checkpoint
  // by another process writes page 1 before it extends the file. quick_check finds missing pages.)
  if (file_size % page_size != 0)
    return "truncated: " + std::to_string(file_size) + " bytes, not a whole number of " +
           std::to_string(page_size) + "-byte pages";
  return "";
}

}  // namespace

std::string sqlite_reason(sqlite3* db, int rc) {
  int ext = db ? sqlite3_extended_errcode(db) : rc;
  // The connection's code belongs to the failed call only if it is an error of the same family.
  if ((ext & 0xff) != (rc & 0xff)) ext = rc;
  const char* msg = db && (sqlite3_errcode(db) & 0xff) == (rc & 0xff) ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  std::string out = msg ? msg : "unknown error";
  // sqlite3_errstr names the primary code only; errno carries the OS reason of an I/O error.
  if ((rc & 0xff) == SQLITE_IOERR || (rc & 0xff) == SQLITE_CANTOPEN || (rc & 0xff) == SQLITE_FULL) {
    int os = db ? sqlite3_system_errno(db) : 0;
    if (os != 0) out += std::string(": ") + std::strerror(os);
  }
  return out + " (sqlite code " + std::to_string(ext) + ")";
}

StoreCheck check_store_header(const std::string& path) {
  auto damaged = [](std::string why) { return StoreCheck{StoreCheck::kDamaged, std::move(why)}; };
  auto unreadable = [](std::string why) { return StoreCheck{StoreCheck::kUnreadable, std::move(why)}; };
  // Never through a link: what a link points to is not the store, so it is no evidence of damage.
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);  // NONBLOCK: a FIFO
  if (fd < 0 && errno == ELOOP) return unreadable("a symbolic link; llmtap does not follow links for its own files");
  if (fd < 0) return errno == ENOENT ? StoreCheck{} : unreadable("cannot read: " + std::string(std::strerror(errno)));
  struct stat st {};
  unsigned char header[kHeaderSize];
  ssize_t n = 0;
  bool inspected = ::fstat(fd, &st) == 0;
  if (inspected && st.st_size > 0 && S_ISREG(st.st_mode)) n = ::pread(fd, header, sizeof header, 0);
  int read_errno = errno;
  ::close(fd);
  if (!inspected) return unreadable("cannot inspect: " + std::string(std::strerror(read_errno)));
  if (!S_ISREG(st.st_mode)) return unreadable("not a regular file");
  if (st.st_size == 0) return {};
  if (n < 0) return unreadable("cannot read: " + std::string(std::strerror(read_errno)));
  if (static_cast<std::size_t>(n) < kHeaderSize)
    return damaged("truncated: " + std::to_string(st.st_size) + " bytes, shorter than the SQLite header");
  if (auto bad = check_header(header, static_cast<std::uint64_t>(st.st_size)); !bad.empty()) return damaged(bad);
  return {};
}

StoreCheck check_store_file(const std::string& path) {
  StoreCheck header = check_store_header(path);
  if (!header.ok()) return header;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || st.st_size == 0) return header;
  auto damaged = [](std::string why) { return StoreCheck{StoreCheck::kDamaged, std::move(why)}; };
  auto unreadable = [](std::string why) { return StoreCheck{StoreCheck::kUnreadable, std::move(why)}; };

  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOFOLLOW, nullptr);
  if (rc != SQLITE_OK) {
    std::string why = "cannot open: " + sqlite_reason(db, rc);
    sqlite3_close(db);
    return unreadable(why);
  }
  sqlite3_busy_timeout(db, 5000);
  StoreCheck result;
  auto failed = [&](int code) {
    // Only SQLite's own verdict on the content is damage; busy, locked or I/O errors are not.
    int primary = code & 0xff;
    bool corrupt = primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB;
    result = {corrupt ? StoreCheck::kDamaged : StoreCheck::kUnreadable,
              (corrupt ? "integrity check failed: " : "cannot check: ") + sqlite_reason(db, code)};
  };
  {
    sql::Stmt check(db, "PRAGMA quick_check(5)");
    if (!check.ok()) {
      failed(sqlite3_errcode(db));
    } else {
      int step;
      std::string problems;
      while ((step = check.step()) == SQLITE_ROW) {
        // A row may hold several lines; "*** in database main ***" only introduces them.
        std::string text = check.text(0);
        for (std::size_t pos = 0; pos < text.size();) {
          std::size_t nl = std::min(text.find('\n', pos), text.size());
          std::string line = text.substr(pos, nl - pos);
          pos = nl + 1;
          if (line.empty() || line == "ok" || line.rfind("***", 0) == 0) continue;
          problems += (problems.empty() ? "integrity check failed: " : "; ") + line;
        }
      }
      if (!problems.empty()) result = damaged(problems);
      else if (step != SQLITE_DONE) failed(step);
    }
  }
  sqlite3_close(db);
  return result;
}

std::string set_aside_store_file(const std::string& path, std::string* error) {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
  std::string target = path + ".corrupt-" + stamp;
  for (int i = 1; ::access(target.c_str(), F_OK) == 0; ++i)
    target = path + ".corrupt-" + stamp + "-" + std::to_string(i);
  if (::rename(path.c_str(), target.c_str()) != 0) {
    *error = "cannot rename " + path + " to " + target + ": " + std::strerror(errno);
    return "";
  }
  // The journal files belong to the damaged database: a fresh store must not replay them.
  for (const char* suffix : {"-wal", "-shm"}) {
    std::string from = path + suffix;
    if (::access(from.c_str(), F_OK) == 0 && ::rename(from.c_str(), (target + suffix).c_str()) != 0)
      ::unlink(from.c_str());
  }
  return target;
}

}  // namespace llmtap::exporting
