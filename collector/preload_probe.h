#pragma once
// For `llmtap run --mode preload`: whether the LD_PRELOAD shim can see a program's TLS plaintext,
// decided from its executable (ELF headers, dynamic section, symbols, sections), and where the
// shim library is.
#include <string>

namespace llmtap {

struct PreloadProbe {
  bool will_work = false;
  std::string reason;      // one line for the user; says why not when will_work is false
  std::string executable;  // the ELF file inspected (after PATH lookup and #! interpreters)
};

// EXE is a command name (looked up in PATH), a path, or a script with a #! line (its interpreter is
// inspected). When preload cannot work, reason names the cause (static binary, Go, own/BoringSSL
// copy of OpenSSL, no TLS library) and suggests `--mode proxy`.
PreloadProbe probe_preload_target(const std::string& exe);

// libllmtap_preload.so next to the running executable, else the one built with this tree; "" when
// neither exists.
std::string preload_library_path();

}  // namespace llmtap
