#include "common/private_file.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "common/test_run_as.h"

namespace llmtap {
namespace {

namespace fs = std::filesystem;

std::string slurp(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class PrivateFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "llmtap-privfile-test-XXXXXX").string();
    dir_ = ::mkdtemp(tmpl.data());
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string dir_;
};

TEST_F(PrivateFileTest, AtomicWriteReplacesAFileAndNeverFollowsALink) {
  std::string victim = dir_ + "/victim";
  std::ofstream(victim) << "precious";
  ::chmod(victim.c_str(), 0600);
  std::string target = dir_ + "/bundle.pem";
  ASSERT_EQ(::symlink(victim.c_str(), target.c_str()), 0);
  std::string error;
  ASSERT_TRUE(write_file_atomically(target, "new content", 0644, &error)) << error;
  // The link itself was replaced; its target is untouched, mode included.
  struct stat st {};
  ASSERT_EQ(::lstat(target.c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  EXPECT_EQ(slurp(target), "new content");
  EXPECT_EQ(slurp(victim), "precious");
  ASSERT_EQ(::stat(victim.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // No temporary left behind.
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir_)) files += e.path().filename().string().rfind(".tmp-", 0) == 0;
  EXPECT_EQ(files, 0);
}

TEST_F(PrivateFileTest, OpenRefusesLinksForeignFilesAndOpenModes) {
  std::string error;
  std::string real = dir_ + "/real";
  std::ofstream(real) << "x";
  ::chmod(real.c_str(), 0600);
  ASSERT_EQ(::symlink(real.c_str(), (dir_ + "/link").c_str()), 0);
  EXPECT_LT(open_owned_file(dir_ + "/link", O_RDONLY, 0, 0, &error), 0);
  EXPECT_NE(error.find("symbolic link"), std::string::npos) << error;
  // O_CREAT through a dangling link must not create its target either.
  ASSERT_EQ(::symlink((dir_ + "/created-by-link").c_str(), (dir_ + "/dangling").c_str()), 0);
  EXPECT_LT(open_owned_file(dir_ + "/dangling", O_RDWR | O_CREAT, 0600, 0, &error), 0);
  EXPECT_FALSE(fs::exists(dir_ + "/created-by-link"));

  ::chmod(real.c_str(), 0644);
  EXPECT_LT(open_owned_file(real, O_RDONLY, 0, 077, &error), 0);
  EXPECT_NE(error.find("mode 0644"), std::string::npos) << error;
  int fd = open_owned_file(real, O_RDONLY, 0, 022, &error);
  EXPECT_GE(fd, 0) << error;
  if (fd >= 0) ::close(fd);

  if (testing::running_as_root()) {
    ASSERT_EQ(::chown(real.c_str(), testing::kOtherUid, testing::kOtherUid), 0);
    EXPECT_LT(open_owned_file(real, O_RDONLY, 0, 0, &error), 0);
    EXPECT_NE(error.find("owned by uid 65534"), std::string::npos) << error;
  }
}

TEST_F(PrivateFileTest, ReadIsBounded) {
  std::string p = dir_ + "/big";
  std::ofstream(p) << std::string(5000, 'a');
  ::chmod(p.c_str(), 0600);
  std::string out, error;
  EXPECT_FALSE(read_owned_file(p, 077, 4096, &out, &error));
  EXPECT_TRUE(read_owned_file(p, 077, 5000, &out, &error)) << error;
  EXPECT_EQ(out.size(), 5000u);
}

}  // namespace
}  // namespace llmtap
