// StorePrepThread: a spool segment read ahead in batches hands every trace out once, in order, with
// its rows encoded; stopped part-way, what was read ahead and what was not read add up to the rest.
#include "export/store_prep_thread.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <memory>
#include <string>
#include <vector>

#include "common/memory_budget.h"
#include "export/store_schema.h"
#include "export/store_spool.h"
#include "export/store_writer.h"
#include "export/test_spans.h"

namespace llmtap::exporting {
namespace {

using testing::TempDir;

struct Fixture {
  TempDir dir;
  sqlite3* db = nullptr;
  std::unique_ptr<StoreWriter> writer;
  std::string segment;

  // A store with the keys of numbered traces committed, and a segment of N numbered traces.
  explicit Fixture(int n) {
    EXPECT_EQ(sqlite3_open((dir.path + "/traces.db").c_str(), &db), SQLITE_OK);
    int from = 0;
    std::string error;
    EXPECT_TRUE(bring_schema_up_to_date(db, &from, &error)) << error;
    writer = std::make_unique<StoreWriter>(db);
    EXPECT_EQ(writer->write({testing::numbered_trace(1000000, 2)}), "");
    StoreSpool spool(dir.path + "/spool");
    for (int i = 0; i < n; ++i) EXPECT_TRUE(spool.append(testing::numbered_trace(i, 2), &error)) << error;
    segment = spool.rotate().first;
  }
  ~Fixture() {
    writer.reset();
    sqlite3_close(db);
  }
};

TEST(StorePrepThread, HandsOutEverySpooledTraceOnceInOrderWithItsRows) {
  Fixture f(50);
  auto budget = std::make_shared<MemoryBudget>(std::size_t{64} << 20);
  auto owned = std::make_unique<StorePrepThread>(*f.writer, 7, budget);
  StorePrepThread& prep = *owned;
  prep.read(SpoolSegment::claim(f.segment));
  std::vector<std::string> ids;
  PreparedBatch batch;
  while (prep.next(batch)) {
    EXPECT_LE(batch.traces.size(), 7u);
    ASSERT_EQ(batch.rows.size(), batch.traces.size());
    for (std::size_t i = 0; i < batch.traces.size(); ++i) {
      ids.push_back(batch.traces[i].trace_id);
      EXPECT_TRUE(batch.rows[i].ready);  // the keys were committed: encoded ahead
      EncodedTrace here;
      f.writer->prepare(batch.traces[i], here);
      EXPECT_EQ(batch.rows[i].spans, here.spans);
      EXPECT_EQ(batch.rows[i].report, here.report);
    }
    EXPECT_GT(budget->used(), 0u);
    prep.discard(std::move(batch));
    batch = PreparedBatch();
  }
  std::vector<PreparedBatch> untaken;
  auto segment = prep.take_back(&untaken);
  ASSERT_TRUE(segment);
  EXPECT_TRUE(untaken.empty());
  EXPECT_FALSE(segment->damaged());
  ASSERT_EQ(ids.size(), 50u);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(ids[i], testing::numbered_trace(i, 2).trace_id);
  // A discarded batch is charged until the prep thread has freed it; all are once it has stopped.
  owned.reset();
  EXPECT_EQ(budget->used(), 0u);  // every batch's charge released
}

TEST(StorePrepThread, TakenBackPartWayTheReadAheadAndTheUnreadAreTheRest) {
  Fixture f(100);
  StorePrepThread prep(*f.writer, 5, nullptr);
  prep.read(SpoolSegment::claim(f.segment));
  std::vector<std::string> ids;
  PreparedBatch batch;
  for (int b = 0; b < 3 && prep.next(batch); ++b) {
    for (const Trace& t : batch.traces) ids.push_back(t.trace_id);
    prep.discard(std::move(batch));
    batch = PreparedBatch();
  }
  EXPECT_EQ(ids.size(), 15u);
  std::vector<PreparedBatch> untaken;
  auto segment = prep.take_back(&untaken);
  ASSERT_TRUE(segment);
  EXPECT_LE(untaken.size(), StorePrepThread::kAhead);
  for (const PreparedBatch& u : untaken)
    for (const Trace& t : u.traces) ids.push_back(t.trace_id);
  Trace t;
  while (segment->next(t)) ids.push_back(t.trace_id);
  ASSERT_EQ(ids.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(ids[i], testing::numbered_trace(i, 2).trace_id);
  EXPECT_FALSE(prep.next(batch));  // nothing is read after the segment was taken back
}

}  // namespace
}  // namespace llmtap::exporting
