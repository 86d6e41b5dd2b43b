#pragma once
// Test-only: run a child process with extra environment, capturing its stdout.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <string>
#include <vector>

extern char** environ;

namespace llmtap::testing {

struct Child {
  pid_t pid = -1;
  int out_fd = -1;  // read end of the child's stdout
};

// Starts ARGV with the current environment plus/overriding ENV; stderr is inherited.
inline Child spawn_child(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env) {
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string s(*e);
    const std::string name = s.substr(0, s.find('='));
    if (env.count(name) == 0) env_strings.push_back(std::move(s));
  }
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp, args;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_copy = argv;
  for (auto& s : argv_copy) args.push_back(s.data());
  args.push_back(nullptr);

  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) return {};
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
  Child c;
  if (posix_spawn(&c.pid, args[0], &fa, nullptr, args.data(), envp.data()) != 0) c.pid = -1;
  posix_spawn_file_actions_destroy(&fa);
  ::close(pipefd[1]);
  c.out_fd = pipefd[0];
  return c;
}

inline std::string read_line(int fd) {
  std::string line;
  char ch;
  while (read(fd, &ch, 1) == 1 && ch != '\n') line.push_back(ch);
  return line;
}

inline std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  return out;
}

struct RunResult {
  int exit_code = -1;
  pid_t pid = -1;
  std::string out;
};

// Runs ARGV to completion.
inline RunResult run_child(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env) {
  RunResult r;
  Child c = spawn_child(argv, env);
  if (c.pid < 0) return r;
  r.pid = c.pid;
  r.out = read_all(c.out_fd);
  ::close(c.out_fd);
  int status = 0;
  waitpid(c.pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

}  // namespace llmtap::testing
