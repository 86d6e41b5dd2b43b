#pragma once
// The real libssl functions behind the shim's hooks, resolved lazily on first use: first the next
// definition after the shim (dlsym RTLD_NEXT), else the libssl already loaded into the process
// (dlopen RTLD_NOLOAD), e.g. when it was loaded RTLD_LOCAL by a Python extension module.
// Nothing here loads libssl: a process without it keeps running without it.
#include <cstddef>

namespace llmtap::preload {

struct OpaqueSsl;  // stands for OpenSSL's SSL; the shim never looks inside

using SslWriteFn = int (*)(OpaqueSsl*, const void*, int);
using SslWriteExFn = int (*)(OpaqueSsl*, const void*, std::size_t, std::size_t*);
using SslReadFn = int (*)(OpaqueSsl*, void*, int);
using SslReadExFn = int (*)(OpaqueSsl*, void*, std::size_t, std::size_t*);
using SslFreeFn = void (*)(OpaqueSsl*);
using SslShutdownFn = int (*)(OpaqueSsl*);
using SslGetServernameFn = const char* (*)(const OpaqueSsl*, int);
using SslGetFdFn = int (*)(const OpaqueSsl*);
using SslIsServerFn = int (*)(const OpaqueSsl*);

// Each returns nullptr when libssl (or that symbol) is not loaded. Thread-safe; results cached.
SslWriteFn real_ssl_write();
SslWriteExFn real_ssl_write_ex();
SslReadFn real_ssl_read();
SslReadExFn real_ssl_read_ex();
SslFreeFn real_ssl_free();
SslShutdownFn real_ssl_shutdown();
SslGetServernameFn real_ssl_get_servername();
SslGetFdFn real_ssl_get_fd();
SslIsServerFn real_ssl_is_server();

}  // namespace llmtap::preload
