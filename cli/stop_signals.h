#pragma once
// Long-running commands (`llmtap proxy`, `llmtap ui`) stop on SIGINT/SIGTERM: the signals are
// blocked before any thread starts, so only the command's sigwait receives them.
#include <signal.h>

namespace llmtap::cli {

// Blocks SIGINT and SIGTERM for this thread (and the threads it starts), ignores SIGPIPE; returns
// the set to sigwait on.
inline sigset_t block_stop_signals() {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return stop_signals;
}

}  // namespace llmtap::cli
