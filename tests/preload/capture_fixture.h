#pragma once
// Test-only pieces shared by the preload capture tests: the local TLS provider (tls_provider.py,
// certificate from a test CA made at test time), a ModelCall collector to wait on, and helpers.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "common/sinks.h"
#include "common/test_source_dir.h"
#include "tests/preload/subprocess.h"

namespace llmtap {
namespace {

[[maybe_unused]] const char* kPython = "/usr/bin/python3";  // Debian's python3: system OpenSSL, python3-httpx
[[maybe_unused]] const char* kCurl = "/usr/bin/curl";
const std::string kReply = "Hello from the simulated provider";

struct CallCollector : ModelCallSink {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<ModelCall> calls;
  void on_model_call(ModelCall call) override {
    std::lock_guard<std::mutex> lock(mu);
    calls.push_back(std::move(call));
    cv.notify_all();
  }
  // Generous bound: reached only when capture is broken; nothing on the happy path is timed.
  std::vector<ModelCall> wait_for(std::size_t n) {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait_for(lock, std::chrono::seconds(60), [&] { return calls.size() >= n; });
    return calls;
  }
};

bool command_ok(const std::string& cmd) { return std::system(cmd.c_str()) == 0; }

// One TLS provider for the whole suite.
class Provider {
 public:
  static Provider& get() {
    static Provider p;
    return p;
  }
  bool ok() const { return port_ > 0; }
  std::string base(const std::string& host = "localhost") const {
    return "https://" + host + ":" + std::to_string(port_);
  }
  const std::string& ca() const { return ca_; }
  ~Provider() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

 private:
  Provider() {
    char tmpl[] = "/tmp/llmtap-preload-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
    if (!command_ok(std::string("bash ") + llmtap::test_support::source_dir() + "/examples/sim-provider/make_test_ca.sh " + dir_)) return;
    ca_ = dir_ + "/ca.pem";
    auto child = testing::spawn_child({kPython, LLMTAP_TEST_DIR "/tls_provider.py", "--cert", dir_ + "/server.pem",
                                       "--key", dir_ + "/server.key"},
                                      {});
    pid_ = child.pid;
    const std::string line = testing::read_line(child.out_fd);
    ::close(child.out_fd);
    if (line.rfind("listening 127.0.0.1:", 0) == 0) port_ = std::stoi(line.substr(20));
  }
  std::string dir_, ca_;
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace
}  // namespace llmtap
