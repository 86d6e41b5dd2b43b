// Unit tests of `llmtap run --mode auto` (cli/run_mode.cc) and the child-process helpers.
#include "cli/run_mode.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>

#include "cli/child_process.h"

namespace llmtap::cli {
namespace {

TEST(RunMode, ParsesModes) {
  EXPECT_EQ(parse_run_mode("auto"), RunMode::kAuto);
  EXPECT_EQ(parse_run_mode("proxy"), RunMode::kProxy);
  EXPECT_EQ(parse_run_mode("gateway"), RunMode::kGateway);
  EXPECT_EQ(parse_run_mode("preload"), RunMode::kPreload);
  EXPECT_FALSE(parse_run_mode("magic").has_value());
}

TEST(RunMode, NodeVersionThresholds) {
  EXPECT_FALSE(node_honours_env_proxy("v20.20.2"));
  EXPECT_FALSE(node_honours_env_proxy("v22.20.9"));
  EXPECT_TRUE(node_honours_env_proxy("v22.21.0"));
  EXPECT_FALSE(node_honours_env_proxy("v23.11.0"));
  EXPECT_FALSE(node_honours_env_proxy("v24.4.1"));
  EXPECT_TRUE(node_honours_env_proxy("v24.5.0"));
  EXPECT_TRUE(node_honours_env_proxy("v25.0.0"));
  EXPECT_FALSE(node_honours_env_proxy(""));
  EXPECT_FALSE(node_honours_env_proxy("garbage"));
}

TEST(RunMode, Shebang) {
  EXPECT_EQ(parse_shebang("#!/usr/bin/env node\nconsole.log(1)"),
            (std::vector<std::string>{"/usr/bin/env", "node"}));
  EXPECT_EQ(parse_shebang("#! /bin/sh -e\r\n"), (std::vector<std::string>{"/bin/sh", "-e"}));
  EXPECT_TRUE(parse_shebang("\x7f" "ELF").empty());
  EXPECT_TRUE(parse_shebang("").empty());
}

TEST(RunMode, DecisionsPerTarget) {
  TargetInfo node20;
  node20.path = "/usr/bin/node";
  node20.is_node = true;
  node20.node_version = "v20.20.2";
  auto d = decide_auto_mode(node20, true);
  EXPECT_TRUE(d.modes.gateway);
  EXPECT_TRUE(d.modes.proxy);
  EXPECT_FALSE(d.modes.preload);
  EXPECT_NE(d.summary.find("v20.20.2"), std::string::npos);
  EXPECT_EQ(d.summary.find('\n'), std::string::npos);  // one line

  TargetInfo python;
  python.path = "/usr/bin/python3.11";
  python.is_python = true;
  python.elf.is_elf = python.elf.dynamic = true;
  EXPECT_TRUE(decide_auto_mode(python, true).modes.preload);
  EXPECT_FALSE(decide_auto_mode(python, true).modes.proxy);
  auto no_shim = decide_auto_mode(python, false);
  EXPECT_FALSE(no_shim.modes.preload);
  EXPECT_TRUE(no_shim.modes.proxy);

  TargetInfo curl;
  curl.path = "/usr/bin/curl";
  curl.elf.is_elf = curl.elf.dynamic = true;
  curl.links_openssl = true;
  EXPECT_TRUE(decide_auto_mode(curl, true).modes.preload);

  TargetInfo go;
  go.path = "/usr/local/bin/agent";
  go.elf.is_elf = go.elf.dynamic = go.elf.go = true;
  go.links_openssl = true;  // cgo binaries may link libssl, but Go's TLS does the work
  auto gd = decide_auto_mode(go, true);
  EXPECT_FALSE(gd.modes.preload);
  EXPECT_TRUE(gd.modes.proxy && gd.modes.gateway);

  TargetInfo fully_static;
  fully_static.path = "/opt/agent";
  fully_static.elf.is_elf = true;
  EXPECT_TRUE(decide_auto_mode(fully_static, true).modes.proxy);
  EXPECT_FALSE(decide_auto_mode(fully_static, true).modes.preload);

  TargetInfo script;
  script.path = "/bin/bash";
  script.script = "/work/run.sh";
  script.elf.is_elf = script.elf.dynamic = true;
  auto sd = decide_auto_mode(script, true);
  EXPECT_TRUE(sd.modes.proxy);
  EXPECT_NE(sd.summary.find("run.sh"), std::string::npos);
}

TEST(RunMode, ProcessNameForCommand) {
  EXPECT_EQ(process_name_for_command({"node", "examples/support-agents/main.mjs"}), "main.mjs");
  EXPECT_EQ(process_name_for_command({"/usr/bin/python3", "-u", "app/agent.py", "--x"}), "agent.py");
  EXPECT_EQ(process_name_for_command({"python3.11", "-m", "mypkg.agent"}), "mypkg.agent");
  EXPECT_EQ(process_name_for_command({"python3", "-c", "print(1)"}), "python3");
  EXPECT_EQ(process_name_for_command({"/usr/bin/curl", "https://x"}), "curl");
  EXPECT_EQ(process_name_for_command({"./my-agent"}), "my-agent");
  EXPECT_EQ(process_name_for_command({}), "");
}

TEST(RunMode, ParseElfRejectsGarbageSafely) {
  EXPECT_FALSE(parse_elf("").is_elf);
  EXPECT_FALSE(parse_elf("hello world, this is not an elf file at all, no sir").is_elf);
  std::string truncated = std::string("\x7f" "ELF\x02\x01\x01", 7) + std::string(60, '\xff');
  auto info = parse_elf(truncated);  // offsets point outside the buffer: must not crash
  EXPECT_TRUE(info.is_elf);
  EXPECT_TRUE(info.needed.empty());
}

TEST(RunMode, InspectsRealBinaries) {
  // The machine's own programs: curl reaches libssl through libcurl; python is recognised by name.
  EnvMap env = {{"PATH", "/usr/local/bin:/usr/bin:/bin"}};
  std::string curl = find_in_path("curl", env["PATH"]);
  ASSERT_FALSE(curl.empty());
  auto t = inspect_target(curl, env);
  EXPECT_TRUE(t.elf.is_elf);
  EXPECT_TRUE(t.elf.dynamic);
  EXPECT_FALSE(t.elf.needed.empty());
  EXPECT_TRUE(t.links_openssl);
  EXPECT_FALSE(t.elf.go);

  std::string py = find_in_path("python3", env["PATH"]);
  ASSERT_FALSE(py.empty());
  auto p = inspect_target(py, env);
  EXPECT_TRUE(p.is_python);
  EXPECT_TRUE(p.elf.dynamic);

  std::string node = find_in_path("node", env["PATH"]);
  if (!node.empty()) {
    auto n = inspect_target(node, env);
    EXPECT_TRUE(n.is_node);
    EXPECT_EQ(n.node_version.rfind("v", 0), 0u) << n.node_version;
  }
}

TEST(RunMode, FollowsEnvShebangToNode) {
  EnvMap env = {{"PATH", "/usr/local/bin:/usr/bin:/bin"}};
  if (find_in_path("node", env["PATH"]).empty()) GTEST_SKIP() << "no node";
  char path[] = "/tmp/llmtap-run-mode-XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  std::ofstream(path) << "#!/usr/bin/env node\nconsole.log('hi')\n";
  auto t = inspect_target(path, env);
  EXPECT_TRUE(t.is_node);
  EXPECT_EQ(t.script, path);
  std::remove(path);
}

TEST(ChildProcess, FindInPath) {
  int err = 0;
  EXPECT_EQ(find_in_path("sh", "/nonexistent:/bin:/usr/bin", &err), "/bin/sh");
  EXPECT_EQ(err, 0);
  EXPECT_EQ(find_in_path("no-such-command-xyz", "/bin:/usr/bin", &err), "");
  EXPECT_EQ(err, ENOENT);
  EXPECT_EQ(find_in_path("/bin/sh", "", &err), "/bin/sh");
  char plain[] = "/tmp/llmtap-noexec-XXXXXX";
  int fd = ::mkstemp(plain);  // mode 0600: not executable
  ASSERT_GE(fd, 0);
  ::close(fd);
  EXPECT_EQ(find_in_path(plain, "", &err), "");
  EXPECT_EQ(err, EACCES);
  std::remove(plain);
}

TEST(ChildProcess, ExitCodes) {
  std::string err;
  int pid = spawn_child("/bin/sh", {"sh", "-c", "exit 3"}, {"PATH=/bin:/usr/bin"}, &err);
  ASSERT_GT(pid, 0) << err;
  EXPECT_EQ(wait_for_child(pid), 3);
  pid = spawn_child("/bin/sh", {"sh", "-c", "kill -TERM $$"}, {}, &err);
  ASSERT_GT(pid, 0);
  EXPECT_EQ(wait_for_child(pid), 128 + SIGTERM);
  EXPECT_EQ(spawn_child("/nonexistent/prog", {"prog"}, {}, &err), -1);
  EXPECT_FALSE(err.empty());
}

TEST(ChildProcess, ChildSeesOnlyGivenEnvironment) {
  std::string out = capture_stdout({"/bin/sh", "-c", "echo hello"});
  EXPECT_EQ(out, "hello\n");
  std::string err;
  char path[] = "/tmp/llmtap-env-XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  int pid = spawn_child("/bin/sh", {"sh", "-c", std::string("echo \"$FOO\" > ") + path},
                        {"FOO=bar baz"}, &err);
  ASSERT_GT(pid, 0);
  EXPECT_EQ(wait_for_child(pid), 0);
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "bar baz");
  std::remove(path);
}

TEST(ChildProcess, ForwardsSignalsSentToParent) {
  std::string err;
  int pid = spawn_child("/bin/sh", {"sh", "-c", "exec sleep 30"}, {"PATH=/bin:/usr/bin"}, &err);
  ASSERT_GT(pid, 0);
  SignalForwarder fwd(pid);
  ::kill(::getpid(), SIGTERM);  // as a supervisor would: forwarded to the child, not fatal to us
  EXPECT_EQ(wait_for_child(pid), 128 + SIGTERM);
}

}  // namespace
}  // namespace llmtap::cli
