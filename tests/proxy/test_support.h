#pragma once
// Helpers for the hermetic proxy tests: child processes (mock upstream, curl), a blocking loopback
// HTTP client that returns raw bytes, SHA-256, and a Tap that records what it is given.
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/sha.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "collector/tap.h"
#include "proxy/http_framing.h"

// The proxy credential of in-process test servers (ProxyOptions::credential), and the gateway
// prefix that carries it: string literals, so "GET " TEST_GW "/openai/..." concatenates.
#define TEST_CREDENTIAL "testcredential0123456789abcdef00"
#define TEST_GW "/t/" TEST_CREDENTIAL

namespace llmtap::test {

inline std::string sha256_hex(std::string_view data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : md) {
    out.push_back(hex[c >> 4]);
    out.push_back(hex[c & 15]);
  }
  return out;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void write_file(const std::string& path, std::string_view data) {
  std::ofstream out(path, std::ios::binary);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs ARGV to completion, capturing stdout and stderr.
inline CommandResult run_command(const std::vector<std::string>& argv) {
  int out_pipe[2], err_pipe[2];
  if (pipe(out_pipe) != 0 || pipe(err_pipe) != 0) return {};
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    close(out_pipe[0]);
    close(err_pipe[0]);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  CommandResult r;
  std::thread t([&] {
    char buf[4096];
    ssize_t n;
    while ((n = read(err_pipe[0], buf, sizeof buf)) > 0) r.err.append(buf, static_cast<std::size_t>(n));
  });
  char buf[4096];
  ssize_t n;
  while ((n = read(out_pipe[0], buf, sizeof buf)) > 0) r.out.append(buf, static_cast<std::size_t>(n));
  t.join();
  close(out_pipe[0]);
  close(err_pipe[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// A long-running child whose first stdout line is "port N".
class ChildServer {
 public:
  bool start(const std::vector<std::string>& argv) {
    int out_pipe[2];
    if (pipe(out_pipe) != 0) return false;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out_pipe[1], 1);
      close(out_pipe[0]);
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      execvp(args[0], args.data());
      _exit(127);
    }
    close(out_pipe[1]);
    std::string line;
    char c;
    while (read(out_pipe[0], &c, 1) == 1 && c != '\n') line.push_back(c);
    close(out_pipe[0]);
    if (line.rfind("port ", 0) != 0) return false;
    port_ = std::stoi(line.substr(5));
    return true;
  }
  ~ChildServer() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }
  int port() const { return port_; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

// Blocking loopback client speaking raw bytes (10 s receive timeout so a broken proxy fails, not hangs).
class RawClient {
 public:
  explicit RawClient(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval tv{10, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~RawClient() {
    if (fd_ >= 0) close(fd_);
  }
  bool connected() const { return connected_; }
  int fd() const { return fd_; }
  bool send(std::string_view data) {
    sent_.append(data);
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }
  // One recv; "" on EOF/timeout.
  std::string recv_some() {
    char buf[65536];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return {};
    received_.append(buf, static_cast<std::size_t>(n));
    return std::string(buf, static_cast<std::size_t>(n));
  }
  // Reads one complete response (raw bytes, including framing). HEAD: no body expected.
  std::string read_response(bool head = false) {
    std::optional<proxy::ResponseFraming> framing;
    auto reset = [&] {
      framing.emplace(1 << 20);
      if (head) framing->skip(true);
    };
    reset();
    std::string raw;
    while (true) {
      if (!pending_.empty()) {
        boost::beast::error_code ec;
        std::size_t n = framing->put(boost::asio::buffer(pending_), ec);
        raw.append(pending_, 0, n);
        pending_.erase(0, n);
        if (ec && ec != proxy::http::error::need_more) return raw + "<<parse error: " + ec.message() + ">>";
        if (framing->is_done()) {
          if (framing->status() >= 100 && framing->status() < 200) {  // interim: the final one follows
            reset();
            continue;
          }
          return raw;
        }
        if (n > 0) continue;
      }
      std::string more = recv_some();
      if (more.empty()) return raw;
      pending_ += more;
    }
  }
  bool at_eof() {
    if (!pending_.empty()) return false;
    return recv_some().empty();
  }
  const std::string& sent() const { return sent_; }
  const std::string& received() const { return received_; }

 private:
  int fd_ = -1;
  bool connected_ = false;
  std::string pending_;
  std::string sent_, received_;
};

inline std::string header_value(const std::string& response, const std::string& lower_name) {
  std::istringstream in(response.substr(0, response.find("\r\n\r\n")));
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (name == lower_name) {
      std::size_t v = colon + 1;
      while (v < line.size() && line[v] == ' ') ++v;
      return line.substr(v);
    }
  }
  return "";
}

inline std::string body_of(const std::string& response) {
  auto p = response.find("\r\n\r\n");
  return p == std::string::npos ? "" : response.substr(p + 4);
}

// Records everything the proxy reports.
class RecordingTap : public Tap {
 public:
  struct Conn {
    ConnectionInfo info;
    std::string c2s, s2c;
    bool closed = false;
    int data_events = 0;
    bool monotonic = true;
    UnixNanos last_ts = 0;
  };
  void open(std::uint64_t id, const ConnectionInfo& info, UnixNanos ts) noexcept override {
    std::lock_guard<std::mutex> l(mu_);
    conns_[id].info = info;
    conns_[id].last_ts = ts;
  }
  void data(std::uint64_t id, Direction dir, std::string_view bytes, UnixNanos ts) noexcept override {
    std::lock_guard<std::mutex> l(mu_);
    auto& c = conns_[id];
    (dir == Direction::kClientToServer ? c.c2s : c.s2c).append(bytes);
    c.data_events++;
    if (ts < c.last_ts) c.monotonic = false;
    c.last_ts = ts;
  }
  void gap(std::uint64_t, Direction, UnixNanos) noexcept override {}
  void close(std::uint64_t id, UnixNanos) noexcept override {
    std::lock_guard<std::mutex> l(mu_);
    conns_[id].closed = true;
    cv_.notify_all();
  }
  // Waits for a closed connection whose client bytes start with PREFIX.
  bool wait_closed(const std::string& c2s_prefix, Conn* out, std::chrono::seconds timeout = std::chrono::seconds(10)) {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_for(l, timeout, [&] {
      for (auto& [id, c] : conns_)
        if (c.closed && c.c2s.rfind(c2s_prefix, 0) == 0) {
          *out = c;
          return true;
        }
      return false;
    });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::uint64_t, Conn> conns_;
};

}  // namespace llmtap::test
