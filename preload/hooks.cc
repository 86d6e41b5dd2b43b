// The exported libssl entry points of libllmtap_preload.so. Each calls the real function first and
// reports the plaintext it moved afterwards, using the real return value; the host sees exactly the
// real result and errno. Calls made while the thread is already inside a hook (libssl calling its
// own exported functions) pass straight through, so nothing is reported twice.
#include <dlfcn.h>
#include <errno.h>
#include <sys/socket.h>

#include <cstddef>

#include "preload/capture_state.h"
#include "preload/real_ssl.h"

namespace llmtap::preload {
namespace {

__thread int t_in_hook __attribute__((tls_model("initial-exec"))) = 0;

// Marks the thread as inside a hook for its lifetime; outer() says whether this is the outermost.
class HookScope {
 public:
  HookScope() : outer_(t_in_hook == 0) { ++t_in_hook; }
  ~HookScope() { --t_in_hook; }
  bool outer() const { return outer_; }

 private:
  bool outer_;
};

void report(OpaqueSsl* ssl, std::uint8_t dir, const void* buf, std::size_t n) {
  const int saved = errno;
  capture_bytes(ssl, dir, buf, n);
  errno = saved;
}

void report_end(OpaqueSsl* ssl, bool freed) {
  const int saved = errno;
  capture_end(ssl, freed);
  errno = saved;
}

}  // namespace
}  // namespace llmtap::preload

using llmtap::preload::HookScope;
using llmtap::preload::OpaqueSsl;

#define LLMTAP_EXPORT __attribute__((visibility("default")))

extern "C" {

LLMTAP_EXPORT int SSL_write(OpaqueSsl* ssl, const void* buf, int num) {
  auto real = llmtap::preload::real_ssl_write();
  if (real == nullptr) return -1;
  HookScope scope;
  const int r = real(ssl, buf, num);
  if (scope.outer() && r > 0) llmtap::preload::report(ssl, 0, buf, static_cast<std::size_t>(r));
  return r;
}

LLMTAP_EXPORT int SSL_write_ex(OpaqueSsl* ssl, const void* buf, std::size_t num, std::size_t* written) {
  auto real = llmtap::preload::real_ssl_write_ex();
  if (real == nullptr) return 0;
  HookScope scope;
  const int r = real(ssl, buf, num, written);
  if (scope.outer() && r == 1 && written != nullptr) llmtap::preload::report(ssl, 0, buf, *written);
  return r;
}

LLMTAP_EXPORT int SSL_read(OpaqueSsl* ssl, void* buf, int num) {
  auto real = llmtap::preload::real_ssl_read();
  if (real == nullptr) return -1;
  HookScope scope;
  const int r = real(ssl, buf, num);
  if (scope.outer() && r > 0) llmtap::preload::report(ssl, 1, buf, static_cast<std::size_t>(r));
  return r;
}

LLMTAP_EXPORT int SSL_read_ex(OpaqueSsl* ssl, void* buf, std::size_t num, std::size_t* readbytes) {
  auto real = llmtap::preload::real_ssl_read_ex();
  if (real == nullptr) return 0;
  HookScope scope;
  const int r = real(ssl, buf, num, readbytes);
  if (scope.outer() && r == 1 && readbytes != nullptr) llmtap::preload::report(ssl, 1, buf, *readbytes);
  return r;
}

LLMTAP_EXPORT int SSL_shutdown(OpaqueSsl* ssl) {
  auto real = llmtap::preload::real_ssl_shutdown();
  if (real == nullptr) return -1;
  HookScope scope;
  if (scope.outer() && ssl != nullptr) llmtap::preload::report_end(ssl, false);
  return real(ssl);
}

LLMTAP_EXPORT void SSL_free(OpaqueSsl* ssl) {
  auto real = llmtap::preload::real_ssl_free();
  if (real == nullptr) return;
  HookScope scope;
  // Reported before the real free: afterwards the address may be reused by another SSL object.
  if (scope.outer() && ssl != nullptr) llmtap::preload::report_end(ssl, true);
  real(ssl);
}

// Remembers the peer of each successful (or in-progress) inet connect; see remember_connect_peer.
LLMTAP_EXPORT int connect(int fd, const struct sockaddr* addr, socklen_t len) {
  using ConnectFn = int (*)(int, const struct sockaddr*, socklen_t);
  static ConnectFn real = reinterpret_cast<ConnectFn>(dlsym(RTLD_NEXT, "connect"));
  if (real == nullptr) {
    errno = ENOSYS;
    return -1;
  }
  const int r = real(fd, addr, len);
  if (r == 0 || errno == EINPROGRESS) {
    const int saved = errno;
    llmtap::preload::remember_connect_peer(addr, len);
    errno = saved;
  }
  return r;
}

}  // extern "C"
