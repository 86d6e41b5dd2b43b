// Spool::append when the writer is behind: past max_pending_chunks, chunks keep waiting (no drop)
// while the memory budget has room, up to max_pending_chunks_in_budget; without a budget, or with
// a full one, capture is refused (the caller drops, counted). max_pending_chunks = 0 makes the
// writer count as behind at every hand-off, whatever its thread is doing, so the test is not timed.
#include "collector/capture_spool.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "common/test_temp_dir.h"

namespace llmtap::capture {
namespace {

struct TempDir : test_support::TempDir {
  TempDir() : test_support::TempDir("llmtap-capspool-unit") {}
};

SpoolOptions behind_at_every_chunk(const std::string& dir, std::shared_ptr<MemoryBudget> budget,
                                   std::size_t in_budget) {
  SpoolOptions opts;
  opts.dir = dir + "/capture-spool";
  opts.key_path = dir + "/capture-spool.key";
  opts.chunk_bytes = 512;
  opts.max_pending_chunks = 0;
  opts.max_pending_chunks_in_budget = in_budget;
  opts.budget = std::move(budget);
  return opts;
}

// How many of N 200-byte records the spool keeps before the first refusal.
int appended_before_refusal(Spool& spool, int n) {
  const std::string bytes(200, 'x');
  for (int i = 0; i < n; ++i)
    if (!spool.append(RecordKind::kData, Direction::kClientToServer, 1, 1000 + i, bytes, nullptr)) return i;
  return n;
}

TEST(CaptureSpoolWriterBehind, ChunksWaitInTheBudgetWhileItHasRoom) {
  TempDir dir;
  std::string error;
  auto spool = Spool::open(behind_at_every_chunk(dir.path, std::make_shared<MemoryBudget>(64u << 20), 100000),
                           random_run_id(), &error);
  ASSERT_TRUE(spool) << error;
  EXPECT_EQ(appended_before_refusal(*spool, 400), 400);
  EXPECT_EQ(spool->stats().refused_full, 0u);
}

TEST(CaptureSpoolWriterBehind, WithoutABudgetOrWithAFullOneCaptureIsRefused) {
  TempDir without, full;
  std::string error;
  auto alone = Spool::open(behind_at_every_chunk(without.path, nullptr, 100000), random_run_id(), &error);
  ASSERT_TRUE(alone) << error;
  EXPECT_EQ(appended_before_refusal(*alone, 400), 2);  // two records fill the first chunk
  EXPECT_EQ(alone->stats().refused_full, 1u);

  auto budget = std::make_shared<MemoryBudget>(4096);
  budget->charge(MemoryBudget::Account::kOpenTraces, 4096);  // others hold all of it
  auto starved = Spool::open(behind_at_every_chunk(full.path, budget, 100000), random_run_id(), &error);
  ASSERT_TRUE(starved) << error;
  EXPECT_EQ(appended_before_refusal(*starved, 400), 2);
  budget->release(MemoryBudget::Account::kOpenTraces, 4096);
}

TEST(CaptureSpoolWriterBehind, TheBudgetsRoomIsCappedAtMaxPendingChunksInBudget) {
  TempDir dir;
  std::string error;
  auto spool = Spool::open(behind_at_every_chunk(dir.path, std::make_shared<MemoryBudget>(64u << 20), 0),
                           random_run_id(), &error);
  ASSERT_TRUE(spool) << error;
  EXPECT_EQ(appended_before_refusal(*spool, 400), 2);
}

}  // namespace
}  // namespace llmtap::capture
