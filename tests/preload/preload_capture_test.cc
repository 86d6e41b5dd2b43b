// End-to-end preload capture: unmodified clients run with LD_PRELOAD=libllmtap_preload.so against a
// local TLS provider (tls_provider.py, certificate from a test CA made at test time); the collector
// (CollectorSocket -> AsyncTap -> HTTP/1.1 or HTTP/2 decoders -> parsers) runs in this process.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "collector/async_tap.h"
#include "collector/collector_socket.h"
#include "tests/preload/subprocess.h"

namespace llmtap {
namespace {

using testing::run_child;

const char* kPython = "/usr/bin/python3";  // Debian's python3: system OpenSSL, python3-httpx
const char* kCurl = "/usr/bin/curl";
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
  }

 private:
  Provider() {
    char tmpl[] = "/tmp/llmtap-preload-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
    if (!command_ok("bash " LLMTAP_SOURCE_DIR "/examples/sim-provider/make_test_ca.sh " + dir_)) return;
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

class PreloadCaptureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access(kPython, X_OK) != 0) GTEST_SKIP() << "needs Debian's /usr/bin/python3";
    ASSERT_TRUE(Provider::get().ok()) << "simulated provider did not start";
    char tmpl[] = "/tmp/llmtap-collector-XXXXXX";
    dir_ = mkdtemp(tmpl);
    tap_ = std::make_unique<AsyncTap>(sink_);
    std::string error;
    socket_ = CollectorSocket::start(dir_ + "/collector.sock", *tap_, &error);
    ASSERT_NE(socket_, nullptr) << error;
  }
  void TearDown() override {
    if (socket_) socket_->stop();
    if (tap_) tap_->stop();
  }

  std::map<std::string, std::string> shim_env(const std::string& hosts = "127.0.0.1,localhost") const {
    return {{"LD_PRELOAD", LLMTAP_PRELOAD_SO},
            {"LLMTAP_COLLECTOR_SOCKET", dir_ + "/collector.sock"},
            {"LLMTAP_HOSTS", hosts},
            {"SSL_CERT_FILE", Provider::get().ca()}};
  }

  testing::RunResult python(const std::string& mode, const std::string& arg = "") {
    std::vector<std::string> argv = {kPython, LLMTAP_TEST_DIR "/clients.py", mode, Provider::get().base()};
    if (!arg.empty()) argv.push_back(arg);
    return run_child(argv, shim_env());
  }

  testing::RunResult curl(const std::string& version, bool stream) {
    const std::string body = stream
        ? R"({"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]})"
        : R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]})";
    return run_child({kCurl, "-sS", version, "--cacert", Provider::get().ca(), "-H", "Content-Type: application/json",
                      "-H", "Authorization: Bearer sk-test-never-logged", "-d", body, "-w", "\nhttp_version=%{http_version}\n",
                      Provider::get().base() + "/v1/chat/completions"},
                     shim_env());
  }

  // What every captured call from the simulated provider must say.
  static void expect_sim_call(const ModelCall& c) {
    EXPECT_EQ(c.api, "chat_completions");
    EXPECT_EQ(c.method, "POST");
    EXPECT_EQ(c.path, "/v1/chat/completions");
    EXPECT_EQ(c.http_status, 200);
    EXPECT_EQ(c.request_model, "gpt-4o-mini");
    EXPECT_EQ(c.response_model, "gpt-4o-mini-2024-07-18");
    EXPECT_TRUE(c.usage.present);
    EXPECT_EQ(c.usage.input_total(), 8);
    EXPECT_EQ(c.usage.output_total(), 5);
    EXPECT_EQ(c.status, CallStatus::kComplete);
    EXPECT_FALSE(c.capture_gap);
    EXPECT_GT(c.client_pid, 0u);
    ASSERT_EQ(c.output.size(), 1u);
    EXPECT_EQ(c.output[0].text, kReply);
    for (const Header& h : c.request_headers) {
      EXPECT_EQ(h.value.find("sk-test-never-logged"), std::string::npos) << h.name;
    }
  }

  static int count_stream(const std::vector<ModelCall>& calls, bool stream) {
    int n = 0;
    for (const ModelCall& c : calls) n += c.stream == stream ? 1 : 0;
    return n;
  }

  static int count_ok_lines(const std::string& out) {
    int n = 0;
    std::size_t pos = 0;
    while ((pos = out.find(" " + kReply + "\n", pos)) != std::string::npos) {
      ++n;
      ++pos;
    }
    return n;
  }

  std::string dir_;
  CallCollector sink_;
  std::unique_ptr<AsyncTap> tap_;
  std::unique_ptr<CollectorSocket> socket_;
};

TEST_F(PreloadCaptureTest, PythonUrllib) {
  const auto r = python("urllib");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(count_ok_lines(r.out), 2) << r.out;
  const auto calls = sink_.wait_for(2);
  ASSERT_EQ(calls.size(), 2u);
  for (const ModelCall& c : calls) {
    expect_sim_call(c);
    EXPECT_EQ(c.client_pid, static_cast<std::uint64_t>(r.pid));
    EXPECT_EQ(c.host, "localhost");
  }
  EXPECT_EQ(count_stream(calls, true), 1);
}

TEST_F(PreloadCaptureTest, PythonHttpxKeepAlive) {
  const auto probe = run_child({kPython, "-c", "import httpx"}, {});
  if (probe.exit_code != 0) GTEST_SKIP() << "python3-httpx not installed";
  const auto r = python("httpx");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(count_ok_lines(r.out), 2) << r.out;
  const auto calls = sink_.wait_for(2);
  ASSERT_EQ(calls.size(), 2u);
  for (const ModelCall& c : calls) expect_sim_call(c);
  EXPECT_EQ(count_stream(calls, true), 1);
  EXPECT_EQ(calls[0].connection_id, calls[1].connection_id);  // one kept-alive connection
}

TEST_F(PreloadCaptureTest, CurlHttp1) {
  for (bool stream : {false, true}) {
    const auto r = curl("--http1.1", stream);
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_NE(r.out.find("http_version=1.1"), std::string::npos) << r.out;
  }
  const auto calls = sink_.wait_for(2);
  ASSERT_EQ(calls.size(), 2u);
  for (const ModelCall& c : calls) expect_sim_call(c);
  EXPECT_EQ(count_stream(calls, true), 1);
}

TEST_F(PreloadCaptureTest, CurlHttp2) {
  for (bool stream : {false, true}) {
    const auto r = curl("--http2", stream);
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_NE(r.out.find("http_version=2"), std::string::npos) << r.out;
  }
  const auto calls = sink_.wait_for(2);
  ASSERT_EQ(calls.size(), 2u);
  for (const ModelCall& c : calls) expect_sim_call(c);
  EXPECT_EQ(count_stream(calls, true), 1);
}

TEST_F(PreloadCaptureTest, ForkingClient) {
  const auto r = python("fork");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(count_ok_lines(r.out), 3) << r.out;
  const auto calls = sink_.wait_for(3);
  ASSERT_EQ(calls.size(), 3u);
  std::set<std::uint64_t> pids, conns;
  for (const ModelCall& c : calls) {
    expect_sim_call(c);
    pids.insert(c.client_pid);
    conns.insert(c.connection_id);
  }
  EXPECT_EQ(pids.size(), 2u);   // parent and child
  EXPECT_EQ(conns.size(), 3u);  // ids stay unique across the two processes
  EXPECT_EQ(pids.count(static_cast<std::uint64_t>(r.pid)), 1u);
}

TEST_F(PreloadCaptureTest, MultiThreadedConcurrentStreams) {
  const auto r = python("threads", "6");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(count_ok_lines(r.out), 6) << r.out;
  const auto calls = sink_.wait_for(6);
  ASSERT_EQ(calls.size(), 6u);
  std::set<std::uint64_t> conns;
  for (const ModelCall& c : calls) {
    expect_sim_call(c);
    EXPECT_TRUE(c.stream);
    conns.insert(c.connection_id);
  }
  EXPECT_EQ(conns.size(), 6u);
}

TEST_F(PreloadCaptureTest, KilledCollectorDoesNotHurtTheClient) {
  const std::string go_file = dir_ + "/go";
  auto child = testing::spawn_child(
      {kPython, LLMTAP_TEST_DIR "/clients.py", "pause", Provider::get().base(), go_file}, shim_env());
  ASSERT_GT(child.pid, 0);
  ASSERT_EQ(sink_.wait_for(1).size(), 1u);
  socket_->stop();  // the collector goes away mid-run: sockets closed, file removed
  std::ofstream(go_file) << "go";
  const std::string out = testing::read_all(child.out_fd);
  ::close(child.out_fd);
  int status = 0;
  waitpid(child.pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << out;
  EXPECT_EQ(count_ok_lines(out), 3) << out;
}

TEST_F(PreloadCaptureTest, OtherHostsAreNotCaptured) {
  // 127.0.0.2 is not selected; the SNI is "localhost" unless the URL host is an IP, so use one.
  auto env = shim_env("127.0.0.2");
  const auto skipped = run_child({kPython, LLMTAP_TEST_DIR "/clients.py", "urllib", Provider::get().base("127.0.0.1")}, env);
  ASSERT_EQ(skipped.exit_code, 0) << skipped.out;
  EXPECT_EQ(count_ok_lines(skipped.out), 2);
  // A captured run afterwards: only its calls arrive, from a single shim session.
  const auto r = run_child({kPython, LLMTAP_TEST_DIR "/clients.py", "urllib", Provider::get().base("127.0.0.1")},
                           shim_env("127.0.0.1"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto calls = sink_.wait_for(2);
  tap_->flush();
  ASSERT_EQ(calls.size(), 2u);
  for (const ModelCall& c : calls) {
    expect_sim_call(c);
    EXPECT_EQ(c.client_pid, static_cast<std::uint64_t>(r.pid));
    EXPECT_EQ(c.host, "127.0.0.1");  // no SNI for an IP: the connect-time peer
  }
  EXPECT_EQ(socket_->stats().sessions_accepted, 1u);
}

}  // namespace
}  // namespace llmtap
