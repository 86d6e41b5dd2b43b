#pragma once
// Running `llmtap run`'s CMD: PATH lookup as shells do it, spawn with a given environment, signal
// forwarding, and the shell's exit-status conventions.
#include <string>
#include <vector>

namespace llmtap::cli {

// Resolves CMD like execvp: a name with '/' is taken as is; otherwise the first executable regular
// file in PATH (empty entries mean the current directory). "" if none; *errno_out gets ENOENT or
// EACCES (found but not executable).
std::string find_in_path(const std::string& cmd, const std::string& path_var, int* errno_out = nullptr);

// The shell's status for a waitpid() status: the exit code, or 128 + signal number.
int exit_code_from_wait_status(int status);

// Spawns PATH with ARGV (argv[0] included) and ENVP. Returns the pid, or -1 with *error set.
// The child starts with default signal dispositions and an empty signal mask.
int spawn_child(const std::string& path, const std::vector<std::string>& argv,
                const std::vector<std::string>& envp, std::string* error);

// While installed, SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to llmtap are forwarded to PID. A signal
// the terminal sent to the whole foreground group is not forwarded: the child got it already.
class SignalForwarder {
 public:
  explicit SignalForwarder(int pid);
  ~SignalForwarder();  // restores the previous handlers
  // The child is gone (reaped): stop forwarding, but keep absorbing these signals so llmtap can
  // finish exporting traces.
  void child_exited();
  SignalForwarder(const SignalForwarder&) = delete;
  SignalForwarder& operator=(const SignalForwarder&) = delete;
};

// Waits for PID (retrying on EINTR) and returns its shell exit code.
int wait_for_child(int pid);

// Runs ARGV (argv[0] resolved already) and returns its stdout (at most MAX_BYTES), or "" on failure.
// Used to ask `node --version`.
std::string capture_stdout(const std::vector<std::string>& argv, std::size_t max_bytes = 4096);

}  // namespace llmtap::cli
