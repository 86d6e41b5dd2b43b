// Retention and the store under bursts: --retention deletes exactly the traces older than the limit,
// --max-store-mb keeps the newest traces within the cap, and a burst far larger than the queue,
// stopped at a deadline, leaves every trace either stored or spooled (and the next open writes the
// spooled ones in).
#include <gtest/gtest.h>

#include <algorithm>
#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <set>
#include <vector>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "export/sqlite_store.h"
#include "export/store_retention.h"
#include "export/store_spool.h"
#include "export/test_spans.h"

namespace llmtap::exporting {
namespace {

using testing::TempDir;
using Clock = std::chrono::steady_clock;
constexpr std::int64_t kDay = 86'400'000'000'000;

// A trace of SPANS spans starting at START.
Trace trace_at(int n, UnixNanos start, int spans = 3) {
  Trace t = testing::numbered_trace(n, spans);
  for (auto& s : t.spans) {
    s.end_ns = start + (s.end_ns - s.start_ns);
    s.start_ns = start;
    s.set("gen_ai.request.model", std::string("gpt-4o-mini"));
    s.set("filler", std::string(400, static_cast<char>('a' + n % 26)));
  }
  return t;
}

std::int64_t count(sqlite3* db, const char* sql) {
  sqlite3_stmt* st = nullptr;
  std::int64_t v = -1;
  if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
    v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return v;
}

struct CapturedLog {
  std::ostringstream text;
  std::shared_ptr<spdlog::logger> previous = spdlog::default_logger();
  CapturedLog() {
    spdlog::set_default_logger(
        std::make_shared<spdlog::logger>("t", std::make_shared<spdlog::sinks::ostream_sink_mt>(text)));
  }
  ~CapturedLog() { spdlog::set_default_logger(previous); }
};

// Opens the store at PATH with --retention MAX_AGE until its first prune logged (or 5 s passed).
void open_until_pruned(const std::string& path, std::int64_t max_age, const CapturedLog& log) {
  StoreOptions options;
  options.retention.max_age_ns = max_age;
  std::string error;
  auto store = SqliteStore::open(path, &error, options);
  ASSERT_TRUE(store) << error;
  // Enforced on the store's own thread, right after open and then every prune_every.
  for (int i = 0; i < 200 && log.text.str().find("deleted") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
}

TEST(StoreRetention, DeletesExactlyTheTracesOlderThanTheLimit) {
  TempDir dir;
  const std::string path = dir.path + "/traces.db";
  const UnixNanos now = now_ns();
  std::set<std::string> kept;
  std::string error;
  {
    auto store = SqliteStore::open(path, &error);
    ASSERT_TRUE(store) << error;
    // Ages 0.5 d .. 14.5 d, ten traces each; 7 d keeps ages below 7 d.
    for (int n = 0; n < 150; ++n) {
      const UnixNanos age = kDay / 2 + (n / 10) * kDay;
      store->on_trace(trace_at(n, now - age));
      if (age < 7 * kDay) kept.insert(testing::numbered_trace(n).trace_id);
    }
  }
  ASSERT_EQ(kept.size(), 70u);
  CapturedLog log;
  open_until_pruned(path, 7 * kDay, log);
  EXPECT_NE(log.text.str().find("deleted 80 traces (240 spans): 80 older than 7d"), std::string::npos) << log.text.str();
  auto reader = TraceStoreReader::open(path, &error);
  ASSERT_TRUE(reader) << error;
  std::set<std::string> left;
  for (const auto& t : reader->recent(1000)) left.insert(t.trace_id);
  EXPECT_EQ(left, kept);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM spans"), 210);  // no span of a deleted trace is left
  sqlite3_close(db);
}

// The columns retention reads of alerting's table (alerts/alert_store.h).
void add_alert_rows(const std::string& path, const std::vector<std::pair<UnixNanos, std::optional<UnixNanos>>>& rows) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE IF NOT EXISTS alerts(id INTEGER PRIMARY KEY, fired_ns INTEGER NOT NULL, "
                             "recovered_ns INTEGER)", nullptr, nullptr, nullptr), SQLITE_OK);
  for (const auto& [fired, recovered] : rows) {
    std::string sql = "INSERT INTO alerts(fired_ns, recovered_ns) VALUES(" + std::to_string(fired) + "," +
                      (recovered ? std::to_string(*recovered) : std::string("NULL")) + ")";
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  }
  sqlite3_close(db);
}

TEST(StoreRetention, AlertsOlderThanTheLimitGoToo) {
  TempDir dir;
  const std::string path = dir.path + "/traces.db";
  const UnixNanos now = now_ns();
  std::string error;
  {
    auto store = SqliteStore::open(path, &error);
    ASSERT_TRUE(store) << error;
    store->on_trace(trace_at(1, now - kDay));
  }
  add_alert_rows(path, {{now - 10 * kDay, now - 9 * kDay},   // recovered 9 d ago: deleted
                        {now - 10 * kDay, std::nullopt},      // fired 10 d ago, never recovered: deleted
                        {now - 8 * kDay, now - 6 * kDay},     // recovered 6 d ago: kept
                        {now - kDay, std::nullopt}});         // firing: kept
  CapturedLog log;
  open_until_pruned(path, 7 * kDay, log);
  EXPECT_NE(log.text.str().find("deleted 2 alerts older than 7d"), std::string::npos) << log.text.str();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM alerts"), 2);
  EXPECT_EQ(count(db, "SELECT MIN(fired_ns) FROM alerts"), now - 8 * kDay);
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM traces"), 1);
  sqlite3_close(db);
}

TEST(StoreRetention, KeepsTheNewestTracesWithinTheSizeCap) {
  TempDir dir;
  const std::string path = dir.path + "/traces.db";
  const UnixNanos now = now_ns();
  std::string error;
  constexpr int kTraces = 3000;  // about 5 MB
  {
    auto store = SqliteStore::open(path, &error);
    ASSERT_TRUE(store) << error;
    for (int n = 0; n < kTraces; ++n) store->on_trace(trace_at(n, now - (kTraces - n) * 1'000'000'000LL));
  }
  // One alert at the start of every 100th trace: those before the oldest trace kept go with the traces.
  std::vector<std::pair<UnixNanos, std::optional<UnixNanos>>> alerts;
  for (int n = 0; n < kTraces; n += 100) alerts.push_back({now - (kTraces - n) * 1'000'000'000LL, std::nullopt});
  add_alert_rows(path, alerts);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  const std::int64_t before = store_bytes(db);
  sqlite3_close(db);
  ASSERT_GT(before, 3 << 20);
  CapturedLog log;
  StoreOptions options;
  options.retention.max_bytes = 1 << 20;  // --max-store-mb 1
  {
    auto store = SqliteStore::open(path, &error, options);
    ASSERT_TRUE(store) << error;
    for (int i = 0; i < 400 && log.text.str().find("deleted") == std::string::npos; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  EXPECT_NE(log.text.str().find("oldest over the 1 MB cap"), std::string::npos) << log.text.str();
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  EXPECT_LE(store_bytes(db), 1 << 20);
  const std::int64_t left = count(db, "SELECT COUNT(*) FROM traces");
  EXPECT_GT(left, 100);
  // Exactly the newest ones survive: the oldest left is younger than every deleted one.
  const std::int64_t oldest_left = count(db, "SELECT MIN(start_ns) FROM traces");
  EXPECT_EQ(oldest_left, now - (left * 1'000'000'000LL));
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM alerts WHERE fired_ns < (SELECT MIN(start_ns) FROM traces)"), 0);
  std::int64_t alerts_of_kept_traces = 0;  // those at traces n >= kTraces - left
  for (int n = 0; n < kTraces; n += 100) alerts_of_kept_traces += n >= kTraces - left ? 1 : 0;
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM alerts"), alerts_of_kept_traces);
  EXPECT_EQ(count(db, "PRAGMA auto_vacuum"), 2);  // incremental, although the store is in WAL mode
  sqlite3_close(db);
  // New stores give the pages back: the file shrank to about what is left in it.
  EXPECT_LT(std::filesystem::file_size(path), static_cast<std::uintmax_t>(before) / 2);
}

TEST(StoreBurst, StopAtTheDeadlineLeavesEveryTraceStoredOrSpooled) {
  TempDir dir;
  const std::string path = dir.path + "/traces.db";
  std::string error;
  const char* env = std::getenv("LLMTAP_TEST_BURST_TRACES");  // to try other sizes by hand
  const int kProduced = env ? std::atoi(env) : 300000;
  std::uint64_t stored = 0, spooled = 0;
  const auto t0 = Clock::now();
  {
    StoreOptions options;
    options.max_queued = 20000;
    auto store = SqliteStore::open(path, &error, options);
    ASSERT_TRUE(store) << error;
    // What a SIGTERM after a burst does: a deadline first, then every open trace closes at once.
    store->stop_by(Clock::now() + std::chrono::seconds(2));
    for (int n = 0; n < kProduced; ++n) store->on_trace(testing::numbered_trace(n, 2));
    store->flush();
    auto o = store->outcome();
    stored = o.stored;
    spooled = o.spooled;
    EXPECT_EQ(o.accepted, static_cast<std::uint64_t>(kProduced));
    EXPECT_EQ(o.stored + o.spooled, o.accepted) << o.describe();
    EXPECT_EQ(o.lost + o.unstored, 0u);
  }
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("burst of %d traces, 2 s deadline: %.2f s to stop, %llu stored, %llu spooled\n", kProduced, secs,
              static_cast<unsigned long long>(stored), static_cast<unsigned long long>(spooled));
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  const std::int64_t in_db = count(db, "SELECT COUNT(*) FROM traces");
  sqlite3_close(db);
  const std::uint64_t in_spool = count_spooled(path + "-spool");
  EXPECT_EQ(static_cast<std::uint64_t>(in_db), stored);
  EXPECT_EQ(in_spool, spooled);
  EXPECT_EQ(static_cast<std::uint64_t>(in_db) + in_spool, static_cast<std::uint64_t>(kProduced));
  // The next open writes the spooled traces in, in the background.
  {
    auto store = SqliteStore::open(path, &error);
    ASSERT_TRUE(store) << error;
    for (int i = 0; i < 2400 && count_spooled(path + "-spool") > 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_EQ(store->outcome().recovered, spooled);
  }
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM traces"), kProduced);
  sqlite3_close(db);
}

TEST(StoreBurst, OverflowIsSpooledAndWrittenInWhenTheQueueDrains) {
  TempDir dir;
  const std::string path = dir.path + "/traces.db";
  std::string error;
  {
    StoreOptions options;
    options.max_queued = 4;
    auto store = SqliteStore::open(path, &error, options);
    ASSERT_TRUE(store) << error;
    for (int n = 0; n < 2000; ++n) store->on_trace(testing::numbered_trace(n, 2));
    store->flush();
    auto o = store->outcome();
    EXPECT_EQ(o.stored, 2000u) << o.describe();
    EXPECT_EQ(o.spooled, 0u);
  }
  EXPECT_EQ(count_spooled(path + "-spool"), 0u);
  auto reader = TraceStoreReader::open(path, &error);
  ASSERT_TRUE(reader) << error;
  EXPECT_EQ(reader->recent(5000).size(), 2000u);
}

TEST(StoreBurst, PastTheSharedMemoryBudgetTracesAreSpooledAndAllStored) {
  // Another holder (the capture queue, say) takes most of the shared budget: the store keeps one
  // trace queued and spools the rest instead of holding them in memory; the prep thread reads the
  // spool back at most two batches of 1/128 of the budget (and their rows) ahead. All are stored.
  TempDir dir;
  const std::string path = dir.path + "/traces.db";
  std::string error;
  constexpr int kProduced = 500;
  auto budget = std::make_shared<MemoryBudget>(std::size_t{1} << 20);
  budget->charge(MemoryBudget::Account::kCaptureQueue, budget->soft_limit());
  std::size_t most_charged = 0;
  {
    StoreOptions options;
    options.budget = budget;
    auto store = SqliteStore::open(path, &error, options);
    ASSERT_TRUE(store) << error;
    for (int n = 0; n < kProduced; ++n) {
      store->on_trace(testing::numbered_trace(n, 2));
      most_charged = std::max(most_charged, budget->held(MemoryBudget::Account::kStoreQueue));
    }
    store->flush();
    auto o = store->outcome();
    EXPECT_EQ(o.stored, static_cast<std::uint64_t>(kProduced)) << o.describe();
    EXPECT_GT(o.overflowed, 0u) << "the budget sent traces to the spool";
    EXPECT_EQ(o.lost + o.unstored + o.spooled, 0u) << o.describe();
  }
  // Written batches stay charged until the prep thread has freed them; it has once the store closed.
  EXPECT_EQ(budget->held(MemoryBudget::Account::kStoreQueue), 0u) << "written traces return their charge";
  EXPECT_GT(most_charged, 0u);
  EXPECT_LT(most_charged, std::size_t{64} << 10) << "a trace and a bounded read-ahead, not the 64 MB queue";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM traces"), kProduced);
  sqlite3_close(db);
}

TEST(StoreBurst, SpoolCapHoldsAndNothingIsDropped) {
  // A queue of 4 traces overflows at once; a 64 KB spool fills after a few hundred traces. Past
  // the cap a closing trace waits for the queue instead (on_trace blocks): all are stored.
  TempDir dir;
  const std::string path = dir.path + "/traces.db";
  std::string error;
  constexpr std::uint64_t kCap = 64 << 10;
  constexpr int kProduced = 3000;
  std::uint64_t most_on_disk = 0;
  {
    StoreOptions options;
    options.max_queued = 4;
    options.max_spool_bytes = kCap;
    auto store = SqliteStore::open(path, &error, options);
    ASSERT_TRUE(store) << error;
    for (int n = 0; n < kProduced; ++n) {
      store->on_trace(testing::numbered_trace(n, 2));
      most_on_disk = std::max(most_on_disk, store->outcome().spool_bytes);
    }
    store->flush();
    auto o = store->outcome();
    std::printf("spool cap %llu B: %llu traces spooled, %llu waited at the cap, at most %llu B on disk\n",
                static_cast<unsigned long long>(kCap), static_cast<unsigned long long>(o.overflowed),
                static_cast<unsigned long long>(o.spool_full), static_cast<unsigned long long>(most_on_disk));
    EXPECT_EQ(o.stored, static_cast<std::uint64_t>(kProduced)) << o.describe();
    EXPECT_EQ(o.lost + o.unstored + o.spooled, 0u) << o.describe();
  }
  EXPECT_LE(most_on_disk, kCap);
  EXPECT_EQ(count_spooled(path + "-spool"), 0u);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM traces"), kProduced);
  sqlite3_close(db);
}

TEST(StoreBurst, AtTheDeadlineWithAFullSpoolTheRestIsStoredLate) {
  // Past the shutdown deadline the queue goes to the spool; what the cap leaves out is written
  // into the database (late, never dropped).
  TempDir dir;
  const std::string path = dir.path + "/traces.db";
  std::string error;
  constexpr std::uint64_t kCap = 256 << 10;
  constexpr int kProduced = 20000;
  {
    StoreOptions options;
    options.max_queued = 20000;
    options.max_spool_bytes = kCap;
    auto store = SqliteStore::open(path, &error, options);
    ASSERT_TRUE(store) << error;
    store->stop_by(Clock::now());
    for (int n = 0; n < kProduced; ++n) store->on_trace(testing::numbered_trace(n, 2));
    store->flush();  // returns at the deadline; closing the store writes the rest
    auto o = store->outcome();
    EXPECT_EQ(o.lost + o.unstored, 0u) << o.describe();
    EXPECT_LE(o.spool_bytes, kCap);
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  const std::int64_t in_db = count(db, "SELECT COUNT(*) FROM traces");
  sqlite3_close(db);
  const std::uint64_t in_spool = count_spooled(path + "-spool");
  EXPECT_GT(in_spool, 0u);
  EXPECT_EQ(static_cast<std::uint64_t>(in_db) + in_spool, static_cast<std::uint64_t>(kProduced));
}

TEST(StoreRetention, MegabyteOptionsParseWholeNumbersAndSayWhatZeroDoes) {
  std::uint64_t bytes = 7;
  EXPECT_EQ(parse_megabytes("--max-spool-mb", "0", &bytes), "");
  EXPECT_EQ(bytes, 0u);
  EXPECT_EQ(parse_megabytes("--max-spool-mb", "12", &bytes), "");
  EXPECT_EQ(bytes, 12u << 20);
  for (const char* bad : {"", "-1", "1.5", "12MB", "1234567890"}) {
    bytes = 7;
    EXPECT_EQ(parse_megabytes("--max-spool-mb", bad, &bytes),
              std::string("--max-spool-mb wants a whole number of megabytes (0: no cap), got '") + bad + "'");
    EXPECT_EQ(bytes, 7u) << bad;
  }
  EXPECT_EQ(parse_megabytes("--max-capture-spool-mb", "x", &bytes, "no capture spool"),
            "--max-capture-spool-mb wants a whole number of megabytes (0: no capture spool), got 'x'");
}

}  // namespace
}  // namespace llmtap::exporting
