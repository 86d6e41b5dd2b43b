// End-to-end preload capture: unmodified clients run with LD_PRELOAD=libllmtap_preload.so against a
// local TLS provider (tls_provider.py, certificate from a test CA made at test time); the collector
// (CollectorSocket -> AsyncTap -> HTTP/1.1 or HTTP/2 decoders -> parsers) runs in this process.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "collector/async_tap.h"
#include "collector/collector_socket.h"
#include "preload/wire_format.h"
#include "tests/preload/capture_fixture.h"
#include "tests/preload/subprocess.h"

namespace llmtap {
namespace {

using testing::run_child;

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
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
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

TEST_F(PreloadCaptureTest, PythonHttpxAsyncMemoryBio) {
  const auto probe = run_child({kPython, "-c", "import httpx, anyio"}, {});
  if (probe.exit_code != 0) GTEST_SKIP() << "python3-httpx/anyio not installed";
  const auto r = python("httpx_async");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(count_ok_lines(r.out), 2) << r.out;
  const auto calls = sink_.wait_for(2);
  ASSERT_EQ(calls.size(), 2u);
  for (const ModelCall& c : calls) expect_sim_call(c);
  EXPECT_EQ(count_stream(calls, true), 1);
}

TEST_F(PreloadCaptureTest, ProgramsWithoutTlsRunUnchanged) {
  // No libssl in the process at all, and a Python that never imports ssl: the shim stays inert.
  const auto sh = run_child({"/bin/sh", "-c", "echo plain; exit 3"}, shim_env());
  EXPECT_EQ(sh.exit_code, 3);
  EXPECT_EQ(sh.out, "plain\n");
  const auto py = run_child({kPython, "-S", "-c", "import sys; print(sys.version_info[0])"}, shim_env());
  EXPECT_EQ(py.exit_code, 0);
  EXPECT_EQ(py.out, "3\n");
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

// Someone else's socket at the collector path (here: ours, chowned to another uid) gets no
// plaintext: the shim captures nothing, says so once on stderr, and the client works as without it.
TEST_F(PreloadCaptureTest, ForeignOwnedCollectorSocketGetsNothing) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to chown the socket";
  const std::string sock = dir_ + "/collector.sock";
  ASSERT_EQ(chown(sock.c_str(), 65534, 65534), 0);
  const std::string err = dir_ + "/client.stderr";
  const auto r = run_child({"/bin/sh", "-c",
                            std::string("exec \"$0\" \"$@\" 2>") + err, kPython, LLMTAP_TEST_DIR "/clients.py",
                            "urllib", Provider::get().base()},
                           shim_env());
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(count_ok_lines(r.out), 2) << r.out;  // two requests, a connection each
  std::ifstream in(err);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  std::size_t said = 0;
  for (auto p = text.find("llmtap preload: not capturing"); p != std::string::npos;
       p = text.find("llmtap preload: not capturing", p + 1))
    ++said;
  EXPECT_EQ(said, 1u) << text;
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(socket_->stats().sessions_accepted, 0u);
  std::lock_guard<std::mutex> lock(sink_.mu);
  EXPECT_TRUE(sink_.calls.empty());
}

TEST_F(PreloadCaptureTest, StalledCollectorNeverBlocksTheClient) {
  // A collector that accepts connections into its backlog but never reads: the shim's socket
  // fills up and every further record must be dropped, not waited for.
  const std::string path = dir_ + "/stalled.sock";
  const int lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  ASSERT_EQ(bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(lfd, 8), 0);
  auto env = shim_env();
  env["LLMTAP_COLLECTOR_SOCKET"] = path;
  // 16 MiB of requests: more than any socket send buffer the shim can get (it asks for 4 MiB).
  const auto r = run_child({kPython, LLMTAP_TEST_DIR "/clients.py", "big", Provider::get().base(), "16"}, env);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("ok big"), std::string::npos) << r.out;
  // What did get through is whole records only.
  const int fd = accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  ASSERT_GE(fd, 0);
  std::vector<char> buf(1 << 16);
  std::size_t records = 0, data_bytes = 0;
  for (;;) {
    const ssize_t n = recv(fd, buf.data(), buf.size(), 0);
    if (n <= 0) break;
    wire::Record rec;
    ASSERT_TRUE(wire::decode_record(buf.data(), static_cast<std::size_t>(n), &rec));
    ++records;
    if (rec.header.type == static_cast<std::uint8_t>(wire::RecordType::kData)) data_bytes += rec.payload_len;
  }
  EXPECT_GT(records, 2u);                 // hello, open, some data
  EXPECT_LT(data_bytes, std::size_t{16} << 20);  // the rest was dropped
  ::close(fd);
  ::close(lfd);
  std::printf("stalled collector: %zu records (%zu plaintext bytes) queued before the shim dropped\n", records,
              data_bytes);
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
