#include "cli/run_mode.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <set>

#include "cli/child_process.h"

namespace llmtap::cli {

namespace {

// Little-endian reads with bounds checks: a malformed file yields zeros, never a crash.
struct Reader {
  std::string_view b;
  bool ok = true;
  std::uint64_t u(std::uint64_t off, int size) {
    if (off > b.size() || b.size() - off < static_cast<std::uint64_t>(size)) {
      ok = false;
      return 0;
    }
    std::uint64_t v = 0;
    for (int i = size - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(b[off + i]);
    return v;
  }
  std::string cstr(std::uint64_t off) {
    if (off >= b.size()) return "";
    std::size_t end = b.find('\0', off);
    if (end == std::string_view::npos) return "";
    return std::string(b.substr(off, end - off));
  }
};

std::string basename_of(const std::string& p) {
  auto s = p.rfind('/');
  return s == std::string::npos ? p : p.substr(s + 1);
}

bool is_node_name(const std::string& name) { return name == "node" || name == "nodejs"; }
bool is_python_name(const std::string& name) { return name.rfind("python", 0) == 0; }

// Maps the file at PATH read-only; empty view on failure. Unmapped by the destructor.
struct MappedFile {
  void* addr = MAP_FAILED;
  std::size_t size = 0;
  explicit MappedFile(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    struct stat st;
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
      size = static_cast<std::size_t>(st.st_size);
      addr = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    }
    ::close(fd);
  }
  ~MappedFile() {
    if (addr != MAP_FAILED) ::munmap(addr, size);
  }
  std::string_view view() const {
    return addr == MAP_FAILED ? std::string_view() : std::string_view(static_cast<const char*>(addr), size);
  }
};

std::vector<std::string> library_dirs(const EnvMap& env) {
  std::vector<std::string> dirs;
  if (auto it = env.find("LD_LIBRARY_PATH"); it != env.end()) {
    std::size_t start = 0;
    const std::string& v = it->second;
    while (start <= v.size()) {
      std::size_t end = v.find(':', start);
      if (end == std::string::npos) end = v.size();
      if (end > start) dirs.push_back(v.substr(start, end - start));
      start = end + 1;
    }
  }
  for (const char* d : {"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu",
                        "/usr/lib/aarch64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib",
                        "/usr/local/lib"})
    dirs.push_back(d);
  return dirs;
}

// Whether libssl is reachable from NEEDED through the libraries' own DT_NEEDED (bounded walk).
bool reaches_openssl(const std::vector<std::string>& needed, const EnvMap& env) {
  auto dirs = library_dirs(env);
  std::deque<std::string> todo(needed.begin(), needed.end());
  std::set<std::string> seen;
  while (!todo.empty() && seen.size() < 96) {
    std::string lib = todo.front();
    todo.pop_front();
    if (!seen.insert(lib).second) continue;
    if (lib.rfind("libssl.so", 0) == 0) return true;
    for (const auto& d : dirs) {
      std::string p = d + "/" + lib;
      if (::access(p.c_str(), R_OK) != 0) continue;
      MappedFile f(p);
      for (auto& n : parse_elf(f.view()).needed) todo.push_back(n);
      break;
    }
  }
  return false;
}

}  // namespace

std::optional<RunMode> parse_run_mode(std::string_view s) {
  if (s == "auto") return RunMode::kAuto;
  if (s == "proxy") return RunMode::kProxy;
  if (s == "gateway") return RunMode::kGateway;
  if (s == "preload") return RunMode::kPreload;
  return std::nullopt;
}

ElfInfo parse_elf(std::string_view bytes) {
  ElfInfo info;
  if (bytes.size() < 52 || bytes.substr(0, 4) != "\x7f" "ELF") return info;
  const int cls = static_cast<unsigned char>(bytes[4]);  // 1: 32-bit, 2: 64-bit
  if ((cls != 1 && cls != 2) || bytes[5] != 1) return info;  // little-endian only
  info.is_elf = true;
  Reader r{bytes};
  const bool b64 = cls == 2;
  const int addr = b64 ? 8 : 4;
  std::uint64_t phoff = r.u(b64 ? 0x20 : 0x1c, addr), shoff = r.u(b64 ? 0x28 : 0x20, addr);
  std::uint64_t phentsize = r.u(b64 ? 0x36 : 0x2a, 2), phnum = r.u(b64 ? 0x38 : 0x2c, 2);
  std::uint64_t shentsize = r.u(b64 ? 0x3a : 0x2e, 2), shnum = r.u(b64 ? 0x3c : 0x30, 2);
  std::uint64_t shstrndx = r.u(b64 ? 0x3e : 0x32, 2);

  struct Load { std::uint64_t vaddr, offset, filesz; };
  std::vector<Load> loads;
  std::uint64_t dyn_off = 0, dyn_size = 0;
  for (std::uint64_t i = 0; i < phnum && i < 256 && r.ok; ++i) {
    std::uint64_t ph = phoff + i * phentsize;
    std::uint64_t type = r.u(ph, 4);
    std::uint64_t offset = r.u(ph + (b64 ? 0x08 : 0x04), addr);
    std::uint64_t vaddr = r.u(ph + (b64 ? 0x10 : 0x08), addr);
    std::uint64_t filesz = r.u(ph + (b64 ? 0x20 : 0x10), addr);
    if (type == 3) info.dynamic = true;  // PT_INTERP
    if (type == 1) loads.push_back({vaddr, offset, filesz});
    if (type == 2) { dyn_off = offset; dyn_size = filesz; }
    if (type == 4) {  // PT_NOTE: the Go toolchain writes a "Go" note of type 4 (build id)
      std::uint64_t p = offset, end = offset + filesz;
      while (p + 12 <= end && r.ok) {
        std::uint64_t namesz = r.u(p, 4), descsz = r.u(p + 4, 4), ntype = r.u(p + 8, 4);
        if (namesz == 3 && ntype == 4 && r.cstr(p + 12) == "Go") info.go = true;
        p += 12 + ((namesz + 3) & ~3ull) + ((descsz + 3) & ~3ull);
      }
    }
  }
  r.ok = true;
  // Section names (".go.buildinfo" marks Go binaries even without the note).
  if (shoff && shstrndx < shnum && shnum < 65536) {
    std::uint64_t strtab_off = r.u(shoff + shstrndx * shentsize + (b64 ? 0x18 : 0x10), addr);
    for (std::uint64_t i = 0; i < shnum && r.ok; ++i) {
      std::uint64_t name = r.u(shoff + i * shentsize, 4);
      std::string n = r.cstr(strtab_off + name);
      if (n == ".go.buildinfo" || n == ".note.go.buildid") info.go = true;
    }
  }
  r.ok = true;
  // DT_NEEDED: names are offsets into DT_STRTAB, given as a virtual address.
  if (dyn_size) {
    const int ent = b64 ? 16 : 8;
    std::vector<std::uint64_t> needed_offsets;
    std::uint64_t strtab_vaddr = 0;
    for (std::uint64_t p = dyn_off; p + ent <= dyn_off + dyn_size && r.ok; p += ent) {
      std::uint64_t tag = r.u(p, addr), val = r.u(p + addr, addr);
      if (tag == 0) break;
      if (tag == 1) needed_offsets.push_back(val);
      if (tag == 5) strtab_vaddr = val;
    }
    std::uint64_t strtab_off = 0;
    bool mapped = false;
    for (const auto& l : loads)
      if (strtab_vaddr >= l.vaddr && strtab_vaddr < l.vaddr + l.filesz) {
        strtab_off = strtab_vaddr - l.vaddr + l.offset;
        mapped = true;
      }
    if (mapped)
      for (auto o : needed_offsets) {
        std::string n = r.cstr(strtab_off + o);
        if (!n.empty()) info.needed.push_back(n);
      }
  }
  return info;
}

std::vector<std::string> parse_shebang(std::string_view line) {
  std::vector<std::string> out;
  if (line.substr(0, 2) != "#!") return out;
  line.remove_prefix(2);
  if (auto nl = line.find('\n'); nl != std::string_view::npos) line = line.substr(0, nl);
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    std::size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t' && line[j] != '\r') ++j;
    if (j > i) out.emplace_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

bool node_honours_env_proxy(std::string_view v) {
  if (!v.empty() && v[0] == 'v') v.remove_prefix(1);
  int major = 0, minor = 0;
  if (std::sscanf(std::string(v).c_str(), "%d.%d", &major, &minor) < 1) return false;
  if (major == 22) return minor >= 21;
  if (major == 24) return minor >= 5;
  return major >= 25;
}

CaptureModes modes_for(RunMode mode) {
  CaptureModes m;
  m.proxy = mode == RunMode::kProxy;
  m.gateway = mode == RunMode::kGateway;
  m.preload = mode == RunMode::kPreload;
  return m;
}

ModeDecision decide_auto_mode(const TargetInfo& t, bool preload_available) {
  ModeDecision d;
  const std::string name = basename_of(t.path);
  auto proxy_and_gateway = [&](const std::string& why) {
    d.modes.proxy = d.modes.gateway = true;
    d.summary = "proxy + gateway variables: " + why;
  };
  if (t.is_node) {
    std::string v = t.node_version.empty() ? "unknown version" : t.node_version;
    if (node_honours_env_proxy(t.node_version))
      proxy_and_gateway("Node " + v + " (fetch honours HTTPS_PROXY with NODE_USE_ENV_PROXY=1; SDK base URLs too)");
    else
      proxy_and_gateway("Node " + v + " (its fetch ignores proxy variables before 22.21/24.5, so SDKs are "
                        "pointed at the gateway through their base-URL variables)");
    return d;
  }
  if (t.elf.go) {
    proxy_and_gateway(name + " is a Go binary (crypto/tls, not OpenSSL; Go honours HTTPS_PROXY and SSL_CERT_FILE)");
    return d;
  }
  if (t.elf.is_elf && t.elf.dynamic && (t.is_python || t.links_openssl)) {
    if (preload_available) {
      d.modes.preload = true;
      d.summary = "preload: " + name + " is dynamically linked and uses the system OpenSSL" +
                  (t.is_python ? " (through its ssl module)" : "");
      return d;
    }
    proxy_and_gateway(name + " uses OpenSSL but the preload shim is not available");
    return d;
  }
  if (t.elf.is_elf && !t.elf.dynamic) {
    proxy_and_gateway(name + " is statically linked (LD_PRELOAD cannot reach it)");
    return d;
  }
  if (!t.script.empty()) {
    proxy_and_gateway(basename_of(t.script) + " is a " + name + " script (its children inherit the variables)");
    return d;
  }
  proxy_and_gateway(name + " does not load OpenSSL");
  return d;
}

std::string process_name_for_command(const std::vector<std::string>& cmd) {
  if (cmd.empty()) return "";
  std::string prog = basename_of(cmd[0]);
  static const std::set<std::string> kInterpreters = {"node", "nodejs", "bun", "deno", "ruby", "perl",
                                                      "sh", "bash", "zsh", "uv", "npx", "tsx", "ts-node"};
  bool interpreter = kInterpreters.count(prog) > 0 || is_python_name(prog);
  if (!interpreter) return prog;
  for (std::size_t i = 1; i < cmd.size(); ++i) {
    const std::string& a = cmd[i];
    if (a == "-m" && i + 1 < cmd.size()) return cmd[i + 1];  // python -m module
    if (a == "-c" || a == "-e" || a == "--eval") return prog;  // inline code: no script name
    if (a == "run" && (prog == "deno" || prog == "bun" || prog == "uv")) continue;
    if (!a.empty() && a[0] != '-') return basename_of(a);
  }
  return prog;
}

TargetInfo inspect_target(const std::string& resolved_path, const EnvMap& env) {
  TargetInfo t;
  t.path = resolved_path;
  {
    MappedFile f(resolved_path);
    auto bytes = f.view();
    auto shebang = parse_shebang(bytes.substr(0, std::min<std::size_t>(bytes.size(), 512)));
    if (!shebang.empty()) {
      t.script = resolved_path;
      std::string interp = shebang[0];
      // "#!/usr/bin/env [-S] node": the program is env's first non-option argument.
      if (basename_of(interp) == "env") {
        for (std::size_t i = 1; i < shebang.size(); ++i) {
          if (shebang[i][0] == '-' || shebang[i].find('=') != std::string::npos) continue;
          auto it = env.find("PATH");
          std::string found = find_in_path(shebang[i], it == env.end() ? "" : it->second);
          if (!found.empty()) interp = found;
          break;
        }
      }
      t.path = interp;
    }
  }
  char real[4096];
  std::string real_path = ::realpath(t.path.c_str(), real) ? std::string(real) : t.path;
  std::string name = basename_of(t.path), real_name = basename_of(real_path);
  t.is_node = is_node_name(name) || is_node_name(real_name);
  t.is_python = is_python_name(name) || is_python_name(real_name);
  MappedFile f(real_path);
  t.elf = parse_elf(f.view());
  if (t.is_node) t.node_version = [&] {
    std::string v = capture_stdout({real_path, "--version"});
    while (!v.empty() && (v.back() == '\n' || v.back() == '\r' || v.back() == ' ')) v.pop_back();
    return v;
  }();
  if (t.elf.dynamic && !t.is_node) t.links_openssl = reaches_openssl(t.elf.needed, env);
  return t;
}

}  // namespace llmtap::cli
