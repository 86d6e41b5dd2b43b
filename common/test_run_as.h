#pragma once
// Tests only: runs a check in a forked child under another uid (tests run as root; 65534 is
// "nobody"), so trust rules are exercised from a plain user's side too. The child's exit code is
// the result: 0 pass, 1 check failed, 77 could not switch user.
#include <grp.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>

namespace llmtap::testing {

inline constexpr uid_t kOtherUid = 65534;

inline bool running_as_root() { return ::geteuid() == 0; }

inline int run_as_user(uid_t uid, const std::function<bool()>& check) {
  pid_t pid = ::fork();
  if (pid < 0) return 77;
  if (pid == 0) {
    if (::setgroups(0, nullptr) != 0 || ::setresgid(uid, uid, uid) != 0 || ::setresuid(uid, uid, uid) != 0)
      ::_exit(77);
    ::_exit(check() ? 0 : 1);
  }
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return 77;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

}  // namespace llmtap::testing
