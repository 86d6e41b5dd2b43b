// The write-time aggregates (store_aggregates.h) stay what a rebuild from the stored traces gives:
// after traces written in parts, after the 3 -> 4 migration, and after retention deletes traces.
#include "export/store_aggregates.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "export/sqlite_store.h"
#include "export/store_retention.h"
#include "export/store_schema.h"
#include "export/store_writer.h"
#include "export/test_spans.h"
#include "export/test_store_versions.h"

namespace llmtap::exporting {
namespace {

using testing::kT0;
using testing::TempDir;
constexpr UnixNanos kMs = 1'000'000;

// Every aggregate row, in key order.
std::vector<std::pair<AggregateKey, GroupAggregate>> dump(sqlite3* db) {
  std::vector<std::pair<AggregateKey, GroupAggregate>> out;
  EXPECT_EQ(read_aggregates(db, std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max(),
                            std::nullopt, [&](AggregateKey&& k, GroupAggregate&& g) { out.emplace_back(k, g); }),
            "");
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

// The aggregates of PATH equal what build_aggregates makes from its traces (sums within rounding).
void expect_consistent(const std::string& path, std::int64_t traces) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  auto kept = dump(db);
  std::string error;
  ASSERT_EQ(sqlite3_exec(db, "BEGIN; DELETE FROM report_hours; DELETE FROM trace_stats", nullptr, nullptr, nullptr),
            SQLITE_OK);
  ASSERT_TRUE(build_aggregates(db, &error)) << error;
  auto rebuilt = dump(db);
  sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  ASSERT_EQ(kept.size(), rebuilt.size());
  std::int64_t total = 0;
  for (std::size_t i = 0; i < kept.size(); ++i) {
    const auto& [k, a] = kept[i];
    const auto& [rk, b] = rebuilt[i];
    ASSERT_EQ(k, rk);
    EXPECT_EQ(a.counts, b.counts) << k.key;
    for (int s = 0; s < GroupAggregate::kSumSlots; ++s) EXPECT_NEAR(a.sums[s], b.sums[s], 1e-9) << k.key;
    for (int h = 0; h < GroupAggregate::kHistSlots; ++h) {
      EXPECT_EQ(a.hists[h].count(), b.hists[h].count());
      for (double p : {1.0, 50.0, 95.0, 99.0, 100.0}) EXPECT_EQ(a.hists[h].percentile(p), b.hists[h].percentile(p));
    }
    if (k.kind == AggregateKind::kTotal) total += a.counts[GroupAggregate::kTraces];
  }
  EXPECT_EQ(total, traces);
}

std::int64_t count(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_stmt* st = nullptr;
  std::int64_t n = -1;
  if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
    n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

// Traces over several hours: the support trace (tools, a handoff, prices) moved by N hours.
Trace support_at(int n) {
  char id[33];
  std::snprintf(id, sizeof id, "%032x", n + 1);
  Trace t = testing::support_trace(id);
  for (auto& s : t.spans) s.start_ns += n * 1'800'000 * kMs, s.end_ns += n * 1'800'000 * kMs;  // half-hour steps
  return t;
}

TEST(DecimalHistogram, ExactForThreeDigitsAndWithinHalfAPercentOtherwise) {
  DecimalHistogram h;
  for (double v : {10.0, 300.0, 400.0, 455.0, 0.0142, 0.009}) h.add(v);
  EXPECT_EQ(h.percentile(50), 10.0);
  EXPECT_EQ(h.percentile(100), 455.0);
  EXPECT_EQ(h.max(), 455.0);
  EXPECT_EQ(h.percentile(1), 0.009);
  EXPECT_EQ(DecimalHistogram::rounded(0.0142), 0.0142);
  EXPECT_EQ(DecimalHistogram::rounded(0), 0);
  std::mt19937 rng(7);
  std::lognormal_distribution<double> dist(3, 2);
  std::vector<double> values;
  DecimalHistogram r;
  for (int i = 0; i < 5000; ++i) values.push_back(dist(rng)), r.add(values.back());
  std::sort(values.begin(), values.end());
  for (double p : {50.0, 95.0, 99.0}) {
    const double exact = values[static_cast<std::size_t>(std::ceil(p / 100 * values.size())) - 1];
    EXPECT_LE(std::abs(r.percentile(p) - exact), 0.005 * exact) << p;
  }
  // Taking values off is the inverse of adding them.
  DecimalHistogram minus = r;
  minus.merge(r, -1);
  EXPECT_TRUE(minus.empty());
  std::string blob;
  r.encode(blob);
  DecimalHistogram back;
  std::string_view in = blob;
  ASSERT_TRUE(back.decode(in));
  EXPECT_EQ(back.percentile(95), r.percentile(95));
}

TEST(StoreAggregates, KeepUpWithTracesWrittenInPartsAndCountEachTraceOnce) {
  TempDir dir;
  const std::string path = dir.path + "/traces.db";
  std::string error;
  {
    auto store = SqliteStore::open(path, &error);
    ASSERT_TRUE(store) << error;
    for (int n = 0; n < 6; ++n) store->on_trace(support_at(n));
    store->flush();
    // A continued trace: its root again with more spans, in a later batch.
    Trace first = support_at(10), part = first;
    first.spans.resize(2);
    store->on_trace(first);
    store->flush();
    store->on_trace(part);
  }
  expect_consistent(path, 7);
  EXPECT_EQ(count(path, "SELECT COUNT(*) FROM trace_stats"), 7);
  EXPECT_EQ(count(path, "SELECT COUNT(*) FROM span_events"), 0);
}

TEST(StoreAggregates, TheMigrationBuildsThemFromAVersionThreeStore) {
  TempDir dir;
  const std::string path = dir.path + "/traces.db";
  std::string error;
  {
    auto store = SqliteStore::open(path, &error);
    ASSERT_TRUE(store) << error;
    for (int n = 0; n < 5; ++n) store->on_trace(support_at(n));
  }
  ASSERT_EQ(testing::downgrade_store_to_v5(path), "");
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "DROP TABLE report_hours; DROP TABLE trace_stats; PRAGMA user_version=3", nullptr,
                         nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  {
    auto store = SqliteStore::open(path, &error);
    ASSERT_TRUE(store) << error;
    EXPECT_EQ(store->outcome().migrated, "schema 3 -> " + std::to_string(kStoreSchemaVersion));
    store->on_trace(support_at(7));
  }
  EXPECT_EQ(count(path, "PRAGMA user_version"), kStoreSchemaVersion);
  EXPECT_EQ(count(path, "SELECT COUNT(*) FROM trace_stats"), 6);
  expect_consistent(path, 6);
}

// Every row of QUERY as text, one line per row.
std::vector<std::string> rows_of(const std::string& path, const char* query) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_stmt* st = nullptr;
  std::vector<std::string> out;
  if (sqlite3_prepare_v2(db, query, -1, &st, nullptr) == SQLITE_OK)
    while (sqlite3_step(st) == SQLITE_ROW) {
      std::string row;
      for (int c = 0; c < sqlite3_column_count(st); ++c) {
        const unsigned char* text = sqlite3_column_text(st, c);
        row += (text ? reinterpret_cast<const char*>(text) : "NULL") + std::string("|");
      }
      out.push_back(row);
    }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

// What the viewer reads of trace_stats (store_aggregates.h's queries), as text.
std::vector<std::string> stats_reads(const std::string& path) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  std::vector<std::string> out, ids;
  const UnixNanos since = kT0 - kAggregateHourNs, until = kT0 + 100 * kAggregateHourNs;
  EXPECT_EQ(most_expensive_traces(db, since, until, 3, &ids), "");
  EXPECT_EQ(loop_traces(db, since, until, 10, &ids), "");
  EXPECT_EQ(traces_of(db, "user", "u-1", since, until, true, &ids), "");
  EXPECT_EQ(traces_of(db, "session", "s-1", since, until, false, &ids), "");
  EXPECT_EQ(trace_costs(db, since, until, [&](UnixNanos start, double cost) {
              out.push_back(std::to_string(start) + " " + std::to_string(cost));
            }),
            "");
  std::optional<std::pair<UnixNanos, UnixNanos>> range;
  EXPECT_EQ(start_range(db, since, until, &range), "");
  if (range) out.push_back(std::to_string(range->first) + "-" + std::to_string(range->second));
  sqlite3_close(db);
  out.insert(out.end(), ids.begin(), ids.end());
  return out;
}

// A store as schema 4 left it: trace_stats keyed by trace_id with a by-time index.
TEST(StoreAggregates, TheVersionFourStatsTableIsRekeyedWithTheSameRowsAndReads) {
  TempDir dir;
  const std::string path = dir.path + "/traces.db";
  std::string error;
  {
    auto store = SqliteStore::open(path, &error);
    ASSERT_TRUE(store) << error;
    for (int n = 0; n < 6; ++n) {
      Trace t = support_at(n);
      t.spans[0].set("user.id", "u-" + std::to_string(n % 2));
      t.spans[0].set("session.id", "s-" + std::to_string(n % 3));
      store->on_trace(t);
    }
  }
  const char* kAll = "SELECT * FROM trace_stats ORDER BY trace_id";
  const std::vector<std::string> rows = rows_of(path, kAll), reads = stats_reads(path);
  ASSERT_EQ(rows.size(), 6u);
  ASSERT_EQ(testing::downgrade_store_to_v5(path), "");
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, R"sql(
    ALTER TABLE trace_stats RENAME TO stats_now; DROP INDEX trace_stats_by_cost; DROP INDEX trace_stats_loops;
    DROP INDEX trace_stats_by_user; DROP INDEX trace_stats_by_session;
    CREATE TABLE trace_stats(trace_id TEXT PRIMARY KEY, start_ns INTEGER NOT NULL, cost_usd REAL,
      loop INTEGER NOT NULL, user TEXT NOT NULL, session TEXT NOT NULL) WITHOUT ROWID;
    CREATE INDEX trace_stats_by_time ON trace_stats(start_ns, cost_usd);
    CREATE INDEX trace_stats_by_cost ON trace_stats(cost_usd) WHERE cost_usd IS NOT NULL;
    CREATE INDEX trace_stats_loops ON trace_stats(start_ns) WHERE loop = 1;
    CREATE INDEX trace_stats_by_user ON trace_stats(user, start_ns);
    CREATE INDEX trace_stats_by_session ON trace_stats(session, start_ns);
    INSERT INTO trace_stats SELECT * FROM stats_now; DROP TABLE stats_now; PRAGMA user_version=4;)sql",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  ASSERT_EQ(rows_of(path, kAll), rows);
  {
    auto store = SqliteStore::open(path, &error);
    ASSERT_TRUE(store) << error;
    EXPECT_EQ(store->outcome().migrated, "schema 4 -> " + std::to_string(kStoreSchemaVersion));
  }
  EXPECT_EQ(count(path, "PRAGMA user_version"), kStoreSchemaVersion);
  EXPECT_EQ(rows_of(path, kAll), rows);
  EXPECT_EQ(stats_reads(path), reads);
  EXPECT_EQ(count(path, "SELECT COUNT(*) FROM sqlite_master WHERE name IN ('trace_stats_v4','trace_stats_by_time')"), 0);
  EXPECT_EQ(count(path, "SELECT COUNT(*) FROM sqlite_master WHERE type='index' AND tbl_name='trace_stats' AND name NOT LIKE 'sqlite_%'"), 4);
  expect_consistent(path, 6);
}

TEST(StoreAggregates, RetentionTakesOffWhatItDeletes) {
  TempDir dir;
  const std::string path = dir.path + "/traces.db";
  std::string error;
  {
    auto store = SqliteStore::open(path, &error);
    ASSERT_TRUE(store) << error;
    for (int n = 0; n < 8; ++n) store->on_trace(support_at(n));
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  RetentionPolicy policy;
  policy.max_age_ns = 2 * kAggregateHourNs;
  // At kT0 + 4 h, the traces started before kT0 + 2 h (n = 0..3) go: half of an hour bucket stays.
  PruneResult r = prune(db, policy, kT0 + 4 * kAggregateHourNs, 20000, 3);
  sqlite3_close(db);
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.traces(), 4u);
  EXPECT_EQ(count(path, "SELECT COUNT(*) FROM trace_stats"), 4);
  expect_consistent(path, 4);
}

// What another writer (another process's retention, say) does to the store: trace ID deleted and
// the aggregates rebuilt from the traces left, in one transaction on DB.
void delete_and_rebuild(sqlite3* db, const std::string& id) {
  const std::string del = "BEGIN IMMEDIATE; DELETE FROM spans WHERE trace_row=(SELECT id FROM traces WHERE trace_id='" + id +
                          "'); DELETE FROM traces WHERE trace_id='" +
                          id + "'; DELETE FROM report_hours; DELETE FROM trace_stats;";
  ASSERT_EQ(sqlite3_exec(db, del.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  std::string error;
  ASSERT_TRUE(build_aggregates(db, &error)) << error;
  ASSERT_EQ(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
}

TEST(StoreAggregates, AWriterMergesIntoTheRowsItKeptOnlyWhileNoOneElseChangedTheStore) {
  TempDir dir;
  const std::string path = dir.path + "/traces.db";
  auto id = [](int n) {
    char s[33];
    std::snprintf(s, sizeof s, "%032x", n + 1);
    return std::string(s);
  };
  // Every trace in the same hour, so that each batch merges into the groups the one before wrote.
  auto trace = [&](int n) { return testing::support_trace(id(n)); };
  sqlite3* db = nullptr;
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  int from = 0;
  std::string error;
  ASSERT_TRUE(bring_schema_up_to_date(db, &from, &error)) << error;
  ASSERT_EQ(sqlite3_open(path.c_str(), &other), SQLITE_OK);
  {
    StoreWriter writer(db);
    ASSERT_EQ(writer.error(), "");
    ASSERT_EQ(writer.write({trace(0), trace(1)}), "");
    ASSERT_EQ(writer.write({trace(2)}), "");  // merged into the kept rows
    expect_consistent(path, 3);
    // Another connection changes them: the next batch reads them again.
    delete_and_rebuild(other, id(0));
    ASSERT_EQ(writer.write({trace(3)}), "");
    expect_consistent(path, 3);
    // So does a change by the writer's own connection outside its batches (retention runs there).
    delete_and_rebuild(db, id(1));
    ASSERT_EQ(writer.write({trace(4)}), "");
    expect_consistent(path, 3);
  }
  sqlite3_close(other);
  sqlite3_close(db);
}

}  // namespace
}  // namespace llmtap::exporting
