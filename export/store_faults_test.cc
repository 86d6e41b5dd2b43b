// Storage faults: a damaged store is detected on open (header checks, quick_check), reported with
// its path and never read as empty; the writer sets it aside and starts fresh; a store that cannot
// be written sends its traces to a fallback file and says exactly how many went where.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>

#include "export/jsonl_exporter.h"
#include "export/sqlite_store.h"
#include "export/store_file.h"
#include "export/test_spans.h"
#include "export/unstored_traces.h"

namespace llmtap::exporting {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_all(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// A store with enough traces to span many pages.
std::string make_store(const std::string& dir) {
  std::string path = dir + "/traces.db";
  std::string error;
  auto store = SqliteStore::open(path, &error);
  EXPECT_TRUE(store) << error;
  for (int i = 0; i < 300; ++i) store->on_trace(testing::numbered_trace(i, 4));
  store->flush();
  return path;
}

struct Damage {
  const char* name;
  std::string (*apply)(std::string);
};

const Damage kDamages[] = {
    {"garbage",
     [](std::string b) {
       std::mt19937 rng(7);
       for (auto& c : b) c = static_cast<char>(rng());
       return b;
     }},
    {"zeroed first page", [](std::string b) { return std::string(4096, '\0') + b.substr(4096); }},
    {"zeroed middle pages",
     [](std::string b) {
       std::size_t mid = (b.size() / 4096 / 2) * 4096;
       for (std::size_t i = mid; i < mid + 4 * 4096 && i < b.size(); ++i) b[i] = 0;
       return b;
     }},
    {"truncated mid-page", [](std::string b) { return b.substr(0, b.size() / 2 + 100); }},
    {"truncated to whole pages", [](std::string b) { return b.substr(0, (b.size() / 4096 / 2) * 4096); }},
    {"shorter than the header", [](std::string b) { return b.substr(0, 60); }},
};

TEST(StoreFaults, DamagedStoreIsReportedNotReadAsEmpty) {
  for (const auto& d : kDamages) {
    SCOPED_TRACE(d.name);
    TempDir dir;
    std::string path = make_store(dir.path);
    ASSERT_TRUE(check_store_file(path).ok());
    write_all(path, d.apply(read_all(path)));
    EXPECT_EQ(check_store_file(path).result, StoreCheck::kDamaged) << check_store_file(path).reason;
    std::string error;
    // The reader checks only the header at open (quick_check reads every page: the writer runs it);
    // damage inside the file is reported when the damaged pages are read, never read as empty.
    auto reader = TraceStoreReader::open(path, &error);
    if (reader) {
      error = reader->scan({}, [](Trace&&) { return true; });
      if (error.empty()) {
        reader->recent(1000);
        error = reader->error();
      }
    }
    EXPECT_NE(error.find(path), std::string::npos) << error;
    EXPECT_NE(error.find("damaged"), std::string::npos) << error;
  }
}

TEST(StoreFaults, WriterSetsADamagedStoreAsideAndStartsFresh) {
  for (const auto& d : kDamages) {
    SCOPED_TRACE(d.name);
    TempDir dir;
    std::string path = make_store(dir.path);
    std::string damaged = d.apply(read_all(path));
    write_all(path, damaged);
    std::string error;
    {
      auto store = SqliteStore::open(path, &error);
      ASSERT_TRUE(store) << error;
      auto o = store->outcome();
      ASSERT_NE(o.set_aside, "");
      EXPECT_EQ(o.set_aside.rfind(path + ".corrupt-", 0), 0u) << o.set_aside;
      EXPECT_EQ(read_all(o.set_aside), damaged);  // kept as it was, for inspection or recovery
      store->on_trace(testing::numbered_trace(1000, 2));
      store->flush();
      EXPECT_EQ(store->outcome().describe(), "stored 1 of 1 trace");
    }
    auto reader = TraceStoreReader::open(path, &error);
    ASSERT_TRUE(reader) << error;
    EXPECT_EQ(reader->recent(10).size(), 1u);
  }
}

TEST(StoreFaults, ALockedStoreIsNotSetAside) {
  // Another process holding the store exclusively is not damage: the writer must not move a healthy
  // store away because it could not check it just now.
  TempDir dir;
  std::string path = make_store(dir.path);
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "PRAGMA locking_mode=EXCLUSIVE; BEGIN EXCLUSIVE", nullptr, nullptr, nullptr),
            SQLITE_OK);
  StoreCheck check = check_store_file(path);
  EXPECT_EQ(check.result, StoreCheck::kUnreadable) << check.reason;
  std::string error;
  auto store = SqliteStore::open(path, &error);
  if (store) {
    EXPECT_EQ(store->outcome().set_aside, "");
  }
  int aside = 0;
  for (const auto& e : fs::directory_iterator(dir.path)) aside += e.path().string().find(".corrupt-") != std::string::npos;
  EXPECT_EQ(aside, 0);
  store.reset();
  sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  EXPECT_TRUE(check_store_file(path).ok());
}

TEST(StoreFaults, EmptyAndAbsentFilesAreNotDamage) {
  TempDir dir;
  EXPECT_TRUE(check_store_file(dir.path + "/absent.db").ok());
  write_all(dir.path + "/empty.db", "");
  EXPECT_TRUE(check_store_file(dir.path + "/empty.db").ok());
  std::string error;
  EXPECT_FALSE(TraceStoreReader::open(dir.path + "/empty.db", &error));
  EXPECT_NE(error.find("empty"), std::string::npos) << error;
}

TEST(StoreFaults, UnavailableStoreSendsEveryTraceToTheFallbackAndCountsThem) {
  TempDir dir, tmp;
  ::setenv("TMPDIR", tmp.path.c_str(), 1);
  std::string path = dir.path + "/ro/traces.db";
  {
    auto store = SqliteStore::unavailable(path, "cannot open trace store " + path + ": Read-only file system");
    for (int i = 0; i < 3; ++i) store->on_trace(testing::numbered_trace(i, 2));
    store->flush();
    auto o = store->outcome();
    EXPECT_EQ(o.accepted, 3u);
    EXPECT_EQ(o.stored, 0u);
    EXPECT_EQ(o.unstored, 3u);
    EXPECT_EQ(o.lost, 0u);
    EXPECT_EQ(o.fallback_path.rfind(tmp.path + "/llmtap-", 0), 0u) << o.fallback_path;
    EXPECT_EQ(o.describe(), "stored 0 of 3 traces: cannot open trace store " + path +
                                ": Read-only file system; 3 written to " + o.fallback_path + " instead");
    std::string lines = read_all(o.fallback_path);
    EXPECT_EQ(std::count(lines.begin(), lines.end(), '\n'), 6);  // one line per span
    for (int i = 0; i < 3; ++i)
      EXPECT_NE(lines.find(testing::numbered_trace(i, 2).spans[0].span_id), std::string::npos);
    EXPECT_EQ(fs::status(o.fallback_path).permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
  }
  ::unsetenv("TMPDIR");
}

TEST(StoreFaults, FallbackRefusesASharedTempDirectory) {
  TempDir tmp;
  ::setenv("TMPDIR", tmp.path.c_str(), 1);
  std::string dir = tmp.path + "/llmtap-" + std::to_string(::getuid());
  fs::create_directory(dir);
  fs::permissions(dir, fs::perms::all);  // 0777: anyone could plant files there
  std::string error;
  EXPECT_EQ(private_temp_dir(&error), "");
  EXPECT_NE(error.find("not a private directory"), std::string::npos) << error;
  ::unsetenv("TMPDIR");
}

TEST(StoreFaults, JsonlExportOnAFullDiskSaysSoAndCounts) {
  std::ostringstream log;
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(
      std::make_shared<spdlog::logger>("capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(log)));
  {
    std::string error;
    auto jsonl = JsonlExporter::open("/dev/full", &error);  // every write: ENOSPC
    ASSERT_TRUE(jsonl) << error;
    jsonl->on_trace(testing::numbered_trace(1, 2));
    jsonl->on_trace(testing::numbered_trace(2, 3));
  }
  spdlog::set_default_logger(previous);
  EXPECT_NE(log.str().find("jsonl export /dev/full: cannot write: No space left on device"), std::string::npos)
      << log.str();
  EXPECT_NE(log.str().find("5 span(s) could not be written"), std::string::npos) << log.str();
}

TEST(StoreFaults, SqliteReasonIsNeverNotAnError) {
  // The reason of a failed call, even after a later call succeeded on the same connection.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(":memory:", &db), SQLITE_OK);
  int rc = sqlite3_exec(db, "INSERT INTO nowhere VALUES(1)", nullptr, nullptr, nullptr);
  ASSERT_NE(rc, SQLITE_OK);
  sqlite3_exec(db, "SELECT 1", nullptr, nullptr, nullptr);
  std::string why = sqlite_reason(db, rc);
  EXPECT_EQ(why.find("not an error"), std::string::npos) << why;
  EXPECT_NE(why.find("sqlite code 1"), std::string::npos) << why;
  sqlite3_close(db);
}

}  // namespace
}  // namespace llmtap::exporting
