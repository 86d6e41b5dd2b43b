#include "export/disk_spool.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "export/test_spans.h"

namespace llmtap::exporting {
namespace {

TEST(DiskSpool, PersistsInOrderAcrossInstances) {
  testing::TempDir dir;
  std::string spool_dir = dir.path + "/spool";
  {
    DiskSpool s(spool_dir, 1 << 20, 100);
    ASSERT_EQ(s.open(), "");
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(s.push("body" + std::to_string(i), ".json", 10 + i));
    s.pop_oldest();  // body0 delivered
  }
  // A crash mid-write leaves a temp file behind: ignored and removed.
  // Dead pids: pid_max is below 2^22 on Linux.
  std::ofstream(spool_dir + "/.tmp-99999999-deadbeef") << "partial";
  std::ofstream(spool_dir + "/.tmp-" + std::to_string(::getpid()) + "-cafe") << "live writer";
  DiskSpool s(spool_dir, 1 << 20, 100);
  ASSERT_EQ(s.open(), "");
  ASSERT_EQ(s.files(), 2u);
  EXPECT_EQ(s.spans(), 23u);
  EXPECT_FALSE(std::filesystem::exists(spool_dir + "/.tmp-99999999-deadbeef"));
  EXPECT_TRUE(std::filesystem::exists(spool_dir + "/.tmp-" + std::to_string(::getpid()) + "-cafe"));
  EXPECT_EQ(*s.read(*s.oldest()), "body1");
  ASSERT_TRUE(s.push("body3", ".pb", 1));
  s.pop_oldest();
  EXPECT_EQ(*s.read(*s.oldest()), "body2");
  s.pop_oldest();
  EXPECT_EQ(*s.read(*s.oldest()), "body3");  // new seq continues after the old ones
  EXPECT_EQ(s.oldest()->suffix, ".pb");

  struct stat st {};
  ASSERT_EQ(::stat(s.oldest()->path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(spool_dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST(DiskSpool, ClaimsKeepTwoProcessesFromSendingTheSameBatch) {
  testing::TempDir dir;
  DiskSpool a(dir.path, 1 << 20, 100);
  ASSERT_EQ(a.open(), "");
  a.push("one", ".json", 1);
  a.push("two", ".json", 1);
  DiskSpool b(dir.path, 1 << 20, 100);  // a second process on the same directory
  ASSERT_EQ(b.open(), "");
  ASSERT_EQ(b.files(), 2u);
  EXPECT_EQ(*a.claim_oldest(), "one");
  EXPECT_FALSE(b.claim_oldest().has_value());  // taken
  b.pop_oldest();
  a.unclaim_oldest();  // a's send failed: back in the queue
  EXPECT_EQ(*b.claim_oldest(), "two");
  b.pop_oldest();
  EXPECT_EQ(*a.claim_oldest(), "one");
  a.pop_oldest();
  EXPECT_EQ(testing::file_count(dir.path), 0u);

  // A claim left by a dead process is recovered on open.
  DiskSpool c(dir.path, 1 << 20, 100);
  ASSERT_EQ(c.open(), "");
  c.push("three", ".json", 1);
  std::string base = c.oldest()->path.substr(c.oldest()->path.rfind('/') + 1);
  std::filesystem::rename(c.oldest()->path, dir.path + "/.sending-99999999-" + base);
  DiskSpool d(dir.path, 1 << 20, 100);
  ASSERT_EQ(d.open(), "");
  ASSERT_EQ(d.files(), 1u);
  EXPECT_EQ(*d.claim_oldest(), "three");
}

TEST(DiskSpool, BatchesOfAnotherPolicyAreDroppedNotDelivered) {
  testing::TempDir dir;
  const std::string p1 = "1111111111111111", p2 = "2222222222222222";
  {
    DiskSpool s(dir.path, 1 << 20, 100, p1);
    ASSERT_EQ(s.open(), "");
    s.push("meant for endpoint 1", ".json", 4);
    s.push("also for endpoint 1", ".json", 5);
  }
  // From before batches recorded their destination: unknown, so never delivered.
  std::ofstream(dir.path + "/batch-00000000000000000001-7-deadbeefdeadbeef.json") << "legacy";
  // Written by a live process of another policy (pid 1 is always alive): still its own to deliver.
  std::string live = dir.path + "/batch-00000000000000000009-2-cafecafecafecafe-" + p1 + "-1.json";
  std::ofstream(live) << "live writer";
  {
    DiskSpool s(dir.path, 1 << 20, 100, p2);
    ASSERT_EQ(s.open(), "");
    EXPECT_EQ(s.files(), 0u);
    EXPECT_EQ(s.dropped_batches(), 3u);
    EXPECT_EQ(s.dropped_spans(), 16u);
    s.push("meant for endpoint 2", ".json", 1);
  }
  EXPECT_TRUE(std::filesystem::exists(live));
  DiskSpool same(dir.path, 1 << 20, 100, p2);
  ASSERT_EQ(same.open(), "");
  ASSERT_EQ(same.files(), 1u);
  EXPECT_EQ(*same.read(*same.oldest()), "meant for endpoint 2");
}

TEST(DiskSpool, FullSpoolDropsOldestFirst) {
  testing::TempDir dir;
  DiskSpool s(dir.path + "/spool", 1 << 20, 3);
  ASSERT_EQ(s.open(), "");
  for (int i = 0; i < 5; ++i) s.push("b" + std::to_string(i), ".json", 2);
  EXPECT_EQ(s.files(), 3u);
  EXPECT_EQ(s.dropped_batches(), 2u);
  EXPECT_EQ(s.dropped_spans(), 4u);
  EXPECT_EQ(*s.read(*s.oldest()), "b2");
  EXPECT_EQ(testing::file_count(dir.path + "/spool"), 3u);

  // Byte bound: 10 bytes max; pushing 6 + 6 drops the first.
  testing::TempDir dir2;
  DiskSpool b(dir2.path, 10, 100);
  ASSERT_EQ(b.open(), "");
  b.push("aaaaaa", ".json", 1);
  b.push("bbbbbb", ".json", 1);
  EXPECT_EQ(b.files(), 1u);
  EXPECT_EQ(*b.read(*b.oldest()), "bbbbbb");
  EXPECT_FALSE(b.push(std::string(11, 'c'), ".json", 1));  // larger than the whole spool
  EXPECT_EQ(b.dropped_batches(), 2u);
}

}  // namespace
}  // namespace llmtap::exporting
