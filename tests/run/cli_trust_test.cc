// The llmtap binary as a careless operator or a hostile local user meets it (issue 17): a data
// directory it did not make, no HOME, a bogus log level, broken OTLP settings. Each case must end
// in a clear refusal naming the fix, never a silent fallback. Run as root (the suite does) the
// other user is uid 65534, through setpriv.
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tests/preload/subprocess.h"

namespace {

namespace fs = std::filesystem;
using llmtap::testing::run_child;
using llmtap::testing::RunResult;

const std::string kLlmtap = LLMTAP_BINARY;
const char* kSetpriv = "/usr/bin/setpriv";
constexpr uid_t kOtherUid = 65534;

// ARGS under `env -u ... [VAR=VALUE...]`, stderr merged into out.
RunResult llmtap(const std::vector<std::string>& args, const std::vector<std::string>& env = {},
                 const std::vector<std::string>& prefix = {}) {
  std::vector<std::string> argv = {"/bin/sh", "-c", "exec \"$0\" \"$@\" 2>&1", "/usr/bin/env"};
  for (const char* v : {"LLMTAP_DATA_DIR", "XDG_DATA_HOME", "XDG_RUNTIME_DIR", "LLMTAP_LOG_LEVEL", "LLMTAP_ENDPOINT",
                        "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_HEADERS"}) {
    argv.push_back("-u");
    argv.push_back(v);
  }
  argv.insert(argv.end(), env.begin(), env.end());
  argv.insert(argv.end(), prefix.begin(), prefix.end());
  argv.push_back(kLlmtap);
  argv.insert(argv.end(), args.begin(), args.end());
  return run_child(argv, {});
}

class CliTrust : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "llmtap-cli-trust-XXXXXX").string();
    root_ = ::mkdtemp(tmpl.data());
    ::chmod(root_.c_str(), 0755);  // the other user may traverse it
  }
  void TearDown() override { fs::remove_all(root_); }
  std::string root_;
};

TEST_F(CliTrust, WorldWritableDataDirectoryIsRefusedWithTheFix) {
  std::string dir = root_ + "/data";
  fs::create_directory(dir);
  fs::permissions(dir, fs::perms::all);
  auto r = llmtap({"ca", "path", "--data-dir", dir});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("chmod 700 " + dir), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(dir + "/ca-key.pem"));
  r = llmtap({"run", "--data-dir", dir, "--", "/bin/true"});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("writable by group or others"), std::string::npos) << r.out;
}

TEST_F(CliTrust, DataDirectoryOfAnotherUserIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to chown";
  std::string dir = root_ + "/data";
  fs::create_directory(dir);
  ::chmod(dir.c_str(), 0700);
  ASSERT_EQ(::chown(dir.c_str(), kOtherUid, kOtherUid), 0);
  auto r = llmtap({"ca", "path"}, {"LLMTAP_DATA_DIR=" + dir});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("owned by uid 65534"), std::string::npos) << r.out;
}

TEST_F(CliTrust, AsAPlainUser) {
  if (::geteuid() != 0 || ::access(kSetpriv, X_OK) != 0) GTEST_SKIP() << "needs root and setpriv";
  const std::vector<std::string> as_other = {kSetpriv, "--reuid=65534", "--regid=65534", "--clear-groups"};
  std::string roots = root_ + "/roots-dir";
  fs::create_directory(roots);
  ::chmod(roots.c_str(), 0755);
  auto r = llmtap({"ca", "path", "--data-dir", roots}, {"HOME=" + root_}, as_other);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("owned by uid 0, not by you (uid 65534)"), std::string::npos) << r.out;
  // Their own directory works, and the CA lands in it.
  std::string home = root_ + "/home";
  fs::create_directory(home);
  ::chmod(home.c_str(), 0700);
  ASSERT_EQ(::chown(home.c_str(), kOtherUid, kOtherUid), 0);
  r = llmtap({"ca", "path"}, {"HOME=" + home}, as_other);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find(home + "/.local/share/llmtap/ca.pem"), std::string::npos) << r.out;
  struct stat st {};
  ASSERT_EQ(::stat((home + "/.local/share/llmtap/ca-key.pem").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, kOtherUid);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(CliTrust, NoHomeMeansNoDataDirectoryNotTmp) {
  bool existed = fs::exists("/tmp/.local/share/llmtap");
  auto r = llmtap({"ca", "path"}, {"-u", "HOME"});
  EXPECT_NE(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("HOME is not set"), std::string::npos) << r.out;
  if (!existed) {
    EXPECT_FALSE(fs::exists("/tmp/.local/share/llmtap"));
  }
  r = llmtap({"traces", "list"}, {"-u", "HOME"});
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("LLMTAP_DATA_DIR"), std::string::npos) << r.out;
  // XDG_RUNTIME_DIR, the user's own runtime directory, is used instead.
  std::string runtime = root_ + "/run";
  fs::create_directory(runtime);
  ::chmod(runtime.c_str(), 0700);
  r = llmtap({"ca", "path"}, {"-u", "HOME", "XDG_RUNTIME_DIR=" + runtime});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find(runtime + "/llmtap/ca.pem"), std::string::npos) << r.out;
}

TEST_F(CliTrust, BogusLogLevelIsAnErrorLikeTheOption) {
  auto r = llmtap({"ca", "path", "--data-dir", root_ + "/d"}, {"LLMTAP_LOG_LEVEL=bogus"});
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("LLMTAP_LOG_LEVEL wants trace|debug|info|warn|error|critical|off, got 'bogus'"),
            std::string::npos)
      << r.out;
  r = llmtap({"run", "--log-level", "bogus", "--data-dir", root_ + "/d", "--", "/bin/true"});
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("--log-level wants"), std::string::npos) << r.out;
  r = llmtap({"ca", "path", "--data-dir", root_ + "/d"}, {"LLMTAP_LOG_LEVEL=debug"});
  EXPECT_EQ(r.exit_code, 0) << r.out;
}

TEST_F(CliTrust, BrokenOtlpSettingsAreClearErrors) {
  auto r = llmtap({"run", "--data-dir", root_ + "/d", "--", "/bin/true"}, {"OTEL_EXPORTER_OTLP_ENDPOINT=http://"});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("OTEL_EXPORTER_OTLP_ENDPOINT: OTLP endpoint has no host"), std::string::npos) << r.out;
  r = llmtap({"run", "--data-dir", root_ + "/d", "--", "/bin/true"},
             {"OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:9", "OTEL_EXPORTER_OTLP_HEADERS=Authorization=k%0D%0AX-Evil: 1"});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("line break or control character"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("X-Evil"), std::string::npos) << "the value is not echoed: " << r.out;
}

}  // namespace
