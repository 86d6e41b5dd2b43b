// preload_collector_bench: a standalone preload collector for benchmarks and manual checks.
// Listens on --socket PATH (CollectorSocket -> AsyncTap -> decoders -> parsers), counts the
// ModelCalls it rebuilds, and on SIGTERM/SIGINT prints one summary line and exits:
//   calls=N complete=C bytes=B dropped_bytes=D gaps=G sessions=S
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <string>

#include "collector/async_tap.h"
#include "collector/collector_socket.h"

namespace {

struct CountingSink : llmtap::ModelCallSink {
  std::atomic<std::uint64_t> calls{0}, complete{0};
  void on_model_call(llmtap::ModelCall call) override {
    ++calls;
    if (call.status == llmtap::CallStatus::kComplete && !call.capture_gap) ++complete;
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::string path;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--socket") == 0) path = argv[i + 1];
  }
  if (path.empty()) {
    std::fprintf(stderr, "usage: %s --socket PATH\n", argv[0]);
    return 2;
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // before any thread starts: only sigwait sees them

  CountingSink sink;
  llmtap::AsyncTap tap(sink);
  std::string error;
  auto sock = llmtap::CollectorSocket::start(path, tap, &error);
  if (!sock) {
    std::fprintf(stderr, "preload_collector_bench: %s\n", error.c_str());
    return 1;
  }
  std::printf("ready %s\n", path.c_str());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&set, &sig);
  sock->stop();
  tap.stop();
  const auto st = tap.stats();
  std::printf("calls=%llu complete=%llu bytes=%llu dropped_bytes=%llu gaps=%llu sessions=%llu\n",
              static_cast<unsigned long long>(sink.calls.load()),
              static_cast<unsigned long long>(sink.complete.load()),
              static_cast<unsigned long long>(st.bytes_accepted), static_cast<unsigned long long>(st.bytes_dropped),
              static_cast<unsigned long long>(st.gaps_marked),
              static_cast<unsigned long long>(sock->stats().sessions_accepted));
  return 0;
}
