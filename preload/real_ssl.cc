#include "preload/real_ssl.h"

#include <dlfcn.h>

#include <atomic>

namespace llmtap::preload {
namespace {

void* resolve(const char* name) {
  if (void* p = dlsym(RTLD_NEXT, name)) return p;
  // libssl loaded into a local scope (dlopen RTLD_LOCAL) is invisible to RTLD_NEXT. The handle is
  // kept for the life of the process, so the pointer stays valid.
  static std::atomic<void*> handle{nullptr};
  void* h = handle.load(std::memory_order_acquire);
  if (h == nullptr) {
    h = dlopen("libssl.so.3", RTLD_LAZY | RTLD_NOLOAD);
    if (h == nullptr) return nullptr;
    void* expected = nullptr;
    if (!handle.compare_exchange_strong(expected, h)) {
      dlclose(h);  // another thread won; drop our extra reference
      h = expected;
    }
  }
  return dlsym(h, name);
}

// Caches a symbol once found; keeps retrying while absent (libssl may be dlopen'ed later).
template <typename Fn>
Fn cached(std::atomic<void*>& slot, const char* name) {
  void* p = slot.load(std::memory_order_acquire);
  if (p == nullptr) {
    p = resolve(name);
    if (p != nullptr) slot.store(p, std::memory_order_release);
  }
  return reinterpret_cast<Fn>(p);
}

}  // namespace

#define LLMTAP_REAL(fn_name, type, symbol)       \
  type fn_name() {                               \
    static std::atomic<void*> slot{nullptr};     \
    return cached<type>(slot, symbol);           \
  }

LLMTAP_REAL(real_ssl_write, SslWriteFn, "SSL_write")
LLMTAP_REAL(real_ssl_write_ex, SslWriteExFn, "SSL_write_ex")
LLMTAP_REAL(real_ssl_read, SslReadFn, "SSL_read")
LLMTAP_REAL(real_ssl_read_ex, SslReadExFn, "SSL_read_ex")
LLMTAP_REAL(real_ssl_free, SslFreeFn, "SSL_free")
LLMTAP_REAL(real_ssl_shutdown, SslShutdownFn, "SSL_shutdown")
LLMTAP_REAL(real_ssl_get_servername, SslGetServernameFn, "SSL_get_servername")
LLMTAP_REAL(real_ssl_get_fd, SslGetFdFn, "SSL_get_fd")
LLMTAP_REAL(real_ssl_is_server, SslIsServerFn, "SSL_is_server")

#undef LLMTAP_REAL

}  // namespace llmtap::preload
