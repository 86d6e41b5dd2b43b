#include "common/data_dir.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

#include "common/test_run_as.h"

namespace llmtap {
namespace {

namespace fs = std::filesystem;

class DataDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "llmtap-datadir-test-XXXXXX").string();
    root_ = ::mkdtemp(tmpl.data());
    ASSERT_FALSE(root_.empty());
    ::chmod(root_.c_str(), 0755);  // others may traverse it (the non-root checks below)
  }
  void TearDown() override { fs::remove_all(root_); }
  std::string root_;
};

TEST_F(DataDirTest, CreatesAPrivateDirectoryAndAcceptsIt) {
  std::string dir = root_ + "/a/b/llmtap";
  EXPECT_EQ(ensure_private_dir(dir), "");
  struct stat st {};
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_EQ(ensure_private_dir(dir), "");  // again: already there
}

TEST_F(DataDirTest, RefusesAPreCreatedWorldWritableDirectory) {
  std::string dir = root_ + "/llmtap";
  ASSERT_EQ(::mkdir(dir.c_str(), 0700), 0);
  ASSERT_EQ(::chmod(dir.c_str(), 0777), 0);
  std::string e = ensure_private_dir(dir);
  EXPECT_NE(e.find("writable by group or others"), std::string::npos) << e;
  EXPECT_NE(e.find("chmod 700 " + dir), std::string::npos) << e;  // names the fix
}

TEST_F(DataDirTest, PrepareTellsAnUntrustedDirectoryFromAnUnusableOne) {
  std::string shared = root_ + "/shared";
  ASSERT_EQ(::mkdir(shared.c_str(), 0700), 0);
  ASSERT_EQ(::chmod(shared.c_str(), 0777), 0);
  DataDirState st = prepare_data_dir(shared);  // there, but others could change it: a refusal
  EXPECT_EQ(st.verdict, DataDirState::kUntrusted) << st.reason;
  EXPECT_NE(st.reason.find("chmod 700 " + shared), std::string::npos) << st.reason;
  // Cannot be created (a file is in the way): unusable, the caller fails open.
  std::string file = root_ + "/file";
  std::FILE* f = std::fopen(file.c_str(), "w");
  ASSERT_TRUE(f != nullptr);
  std::fclose(f);
  st = prepare_data_dir(file + "/llmtap");
  EXPECT_EQ(st.verdict, DataDirState::kUnusable) << st.reason;
  EXPECT_NE(st.reason.find("cannot create directory " + file), std::string::npos) << st.reason;
  st = prepare_data_dir(file);  // a file where the directory should be: not ours to work around
  EXPECT_EQ(st.verdict, DataDirState::kUntrusted) << st.reason;
  st = prepare_data_dir(root_ + "/fresh/llmtap");
  EXPECT_TRUE(st.usable()) << st.reason;
  EXPECT_TRUE(fs::is_empty(root_ + "/fresh/llmtap"));  // the write probe is removed again
}

TEST_F(DataDirTest, RefusesADirectoryOwnedByAnotherUser) {
  if (!testing::running_as_root()) GTEST_SKIP() << "needs root to chown";
  std::string dir = root_ + "/llmtap";
  ASSERT_EQ(::mkdir(dir.c_str(), 0700), 0);
  ASSERT_EQ(::chown(dir.c_str(), testing::kOtherUid, testing::kOtherUid), 0);
  std::string e = ensure_private_dir(dir);
  EXPECT_NE(e.find("owned by uid 65534"), std::string::npos) << e;
  EXPECT_NE(e.find("--data-dir"), std::string::npos) << e;
}

TEST_F(DataDirTest, RefusesADirectoryUnderAParentOthersCanWrite) {
  std::string parent = root_ + "/shared";
  ASSERT_EQ(::mkdir(parent.c_str(), 0777), 0);
  ASSERT_EQ(::chmod(parent.c_str(), 0777), 0);  // not sticky: anyone may rename our directory away
  std::string e = ensure_private_dir(parent + "/llmtap");
  EXPECT_NE(e.find(parent + " on its path is writable"), std::string::npos) << e;
  ASSERT_EQ(::chmod(parent.c_str(), 01777), 0);  // sticky, as /tmp: only the owner may rename
  EXPECT_EQ(ensure_private_dir(parent + "/llmtap"), "");
}

TEST_F(DataDirTest, ChecksWhereASymlinkedDirectoryLeads) {
  if (!testing::running_as_root()) GTEST_SKIP() << "needs root to chown";
  std::string foreign = root_ + "/foreign";
  ASSERT_EQ(::mkdir(foreign.c_str(), 0700), 0);
  ASSERT_EQ(::chown(foreign.c_str(), testing::kOtherUid, testing::kOtherUid), 0);
  ASSERT_EQ(::symlink(foreign.c_str(), (root_ + "/link").c_str()), 0);
  EXPECT_NE(check_private_dir(root_ + "/link").find("owned by uid 65534"), std::string::npos);
}

TEST_F(DataDirTest, APlainUserIsRefusedADirectoryRootOwns) {
  if (!testing::running_as_root()) GTEST_SKIP() << "needs root to switch users";
  std::string mine = root_ + "/nobody-home";
  ASSERT_EQ(::mkdir(mine.c_str(), 0700), 0);
  ASSERT_EQ(::chown(mine.c_str(), testing::kOtherUid, testing::kOtherUid), 0);
  std::string roots = root_ + "/roots";
  ASSERT_EQ(::mkdir(roots.c_str(), 0755), 0);  // owned by root, readable by all
  int rc = testing::run_as_user(testing::kOtherUid, [&] {
    return ensure_private_dir(mine + "/llmtap") == "" &&
           check_private_dir(roots).find("owned by uid 0") != std::string::npos;
  });
  EXPECT_EQ(rc, 0);
}

TEST(DefaultDataDir, NeverFallsBackToTmp) {
  auto save = [](const char* n) { const char* v = std::getenv(n); return v ? std::optional<std::string>(v) : std::nullopt; };
  const char* names[] = {"LLMTAP_DATA_DIR", "XDG_DATA_HOME", "HOME", "XDG_RUNTIME_DIR"};
  std::optional<std::string> saved[4];
  for (int i = 0; i < 4; ++i) {
    saved[i] = save(names[i]);
    ::unsetenv(names[i]);
  }
  EXPECT_EQ(default_data_dir(), "");
  EXPECT_NE(ensure_private_dir(default_data_dir()).find("HOME is not set"), std::string::npos);
  ::setenv("XDG_RUNTIME_DIR", "/run/user/1000", 1);
  EXPECT_EQ(default_data_dir(), "/run/user/1000/llmtap");
  ::setenv("HOME", "/home/u", 1);
  EXPECT_EQ(default_data_dir(), "/home/u/.local/share/llmtap");
  for (int i = 0; i < 4; ++i) {
    if (saved[i]) ::setenv(names[i], saved[i]->c_str(), 1);
    else ::unsetenv(names[i]);
  }
}

}  // namespace
}  // namespace llmtap
