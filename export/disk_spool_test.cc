#include "export/disk_spool.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

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
  std::ofstream(spool_dir + "/.tmp-deadbeef") << "partial";
  DiskSpool s(spool_dir, 1 << 20, 100);
  ASSERT_EQ(s.open(), "");
  ASSERT_EQ(s.files(), 2u);
  EXPECT_EQ(s.spans(), 23u);
  EXPECT_FALSE(std::filesystem::exists(spool_dir + "/.tmp-deadbeef"));
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
