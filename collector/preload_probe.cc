#include "collector/preload_probe.h"

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <set>
#include <string_view>
#include <utility>
#include <vector>

#ifndef LLMTAP_PRELOAD_LIBRARY_BUILD_PATH
#define LLMTAP_PRELOAD_LIBRARY_BUILD_PATH ""
#endif

namespace llmtap {
namespace {

constexpr const char* kUseProxy = "; use --mode proxy instead";

bool is_executable_file(const std::string& p) {
  struct stat st{};
  return stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(p.c_str(), X_OK) == 0;
}

std::string find_in_path(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  std::string_view dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  while (!dirs.empty()) {
    const std::size_t colon = dirs.find(':');
    std::string dir(dirs.substr(0, colon));
    dirs = colon == std::string_view::npos ? std::string_view() : dirs.substr(colon + 1);
    if (dir.empty()) dir.push_back('.');
    std::string candidate = std::move(dir);  // built in place: GCC 12 warns falsely on a + "/" + b
    candidate += '/';
    candidate += name;
    if (is_executable_file(candidate)) return candidate;
  }
  return "";
}

std::string base_name(const std::string& p) {
  const std::size_t slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

// A read-only mapping of a whole file.
class MappedFile {
 public:
  explicit MappedFile(const std::string& path) {
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    struct stat st{};
    if (fstat(fd, &st) == 0 && st.st_size > 0) {
      void* p = mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
      if (p != MAP_FAILED) {
        data_ = static_cast<const char*>(p);
        size_ = static_cast<std::size_t>(st.st_size);
      }
    }
    ::close(fd);
  }
  ~MappedFile() {
    if (data_ != nullptr) munmap(const_cast<char*>(data_), size_);
  }
  std::string_view view() const { return {data_, size_}; }

 private:
  const char* data_ = nullptr;
  std::size_t size_ = 0;
};

// What the probe needs from one ELF64 file. Every offset is bounds-checked: any file may be given.
struct ElfFacts {
  bool elf = false;
  bool elf64 = false;
  bool dynamic = false;      // has a dynamic section (static-pie binaries do too)
  bool interp = false;       // asks for a program interpreter: LD_PRELOAD applies
  bool go = false;
  bool defines_ssl = false;  // exports its own SSL_write/SSL_read (statically bundled OpenSSL/BoringSSL)
  bool boringssl = false;
  std::vector<std::string> needed;
};

template <typename T>
bool read_at(std::string_view f, std::size_t off, T* out) {
  if (off > f.size() || f.size() - off < sizeof(T)) return false;
  std::memcpy(out, f.data() + off, sizeof(T));
  return true;
}

std::string cstr_at(std::string_view f, std::size_t off) {
  if (off >= f.size()) return "";
  const std::size_t end = f.find('\0', off);
  return std::string(f.substr(off, (end == std::string_view::npos ? f.size() : end) - off));
}

ElfFacts inspect_elf(std::string_view f) {
  ElfFacts facts;
  if (f.size() < EI_NIDENT || std::memcmp(f.data(), ELFMAG, SELFMAG) != 0) return facts;
  facts.elf = true;
  if (f[EI_CLASS] != ELFCLASS64 || f[EI_DATA] != ELFDATA2LSB) return facts;
  facts.elf64 = true;
  Elf64_Ehdr eh;
  if (!read_at(f, 0, &eh)) return facts;

  std::vector<Elf64_Phdr> loads;
  Elf64_Phdr dyn{};
  bool has_dyn = false;
  for (unsigned i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph;
    if (!read_at(f, eh.e_phoff + std::size_t{i} * eh.e_phentsize, &ph)) break;
    if (ph.p_type == PT_LOAD) loads.push_back(ph);
    if (ph.p_type == PT_INTERP) facts.interp = true;
    if (ph.p_type == PT_DYNAMIC) {
      dyn = ph;
      has_dyn = true;
    }
  }
  facts.dynamic = has_dyn;
  auto vaddr_to_off = [&](std::uint64_t va, std::size_t* off) {
    for (const Elf64_Phdr& l : loads) {
      if (va >= l.p_vaddr && va < l.p_vaddr + l.p_filesz) {
        *off = static_cast<std::size_t>(va - l.p_vaddr + l.p_offset);
        return true;
      }
    }
    return false;
  };
  if (has_dyn) {
    std::vector<std::uint64_t> needed_offs;
    std::uint64_t strtab_va = 0;
    for (std::size_t off = dyn.p_offset; off + sizeof(Elf64_Dyn) <= dyn.p_offset + dyn.p_filesz;
         off += sizeof(Elf64_Dyn)) {
      Elf64_Dyn d;
      if (!read_at(f, off, &d) || d.d_tag == DT_NULL) break;
      if (d.d_tag == DT_NEEDED) needed_offs.push_back(d.d_un.d_val);
      if (d.d_tag == DT_STRTAB) strtab_va = d.d_un.d_ptr;
    }
    std::size_t strtab = 0;
    if (vaddr_to_off(strtab_va, &strtab)) {
      for (std::uint64_t n : needed_offs) facts.needed.push_back(cstr_at(f, strtab + n));
    }
  }

  // Sections: Go's build info, and the dynamic symbol table.
  Elf64_Shdr shstr{};
  if (eh.e_shoff != 0 && read_at(f, eh.e_shoff + std::size_t{eh.e_shstrndx} * eh.e_shentsize, &shstr)) {
    for (unsigned i = 0; i < eh.e_shnum; ++i) {
      Elf64_Shdr sh;
      if (!read_at(f, eh.e_shoff + std::size_t{i} * eh.e_shentsize, &sh)) break;
      const std::string name = cstr_at(f, shstr.sh_offset + sh.sh_name);
      if (name == ".go.buildinfo" || name == ".note.go.buildid" || name == ".gopclntab") facts.go = true;
      if (sh.sh_type != SHT_DYNSYM || sh.sh_entsize != sizeof(Elf64_Sym)) continue;
      Elf64_Shdr strsh;
      if (!read_at(f, eh.e_shoff + std::size_t{sh.sh_link} * eh.e_shentsize, &strsh)) continue;
      for (std::size_t off = sh.sh_offset; off + sizeof(Elf64_Sym) <= sh.sh_offset + sh.sh_size;
           off += sizeof(Elf64_Sym)) {
        Elf64_Sym sym;
        if (!read_at(f, off, &sym)) break;
        if (sym.st_shndx == SHN_UNDEF) continue;
        const std::string sname = cstr_at(f, strsh.sh_offset + sym.st_name);
        if (sname == "SSL_write" || sname == "SSL_read") facts.defines_ssl = true;
      }
    }
  }
  if (facts.defines_ssl || !facts.interp) facts.boringssl = f.find("BoringSSL") != std::string_view::npos;
  return facts;
}

// Resolves a DT_NEEDED name the way the loader would for system libraries (enough for a probe).
std::string find_library(const std::string& name) {
  static const char* const kDirs[] = {"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
                                      "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
                                      "/lib64", "/usr/lib64", "/lib", "/usr/lib", "/usr/local/lib"};
  if (name.find('/') != std::string::npos) return name;
  for (const char* d : kDirs) {
    const std::string p = std::string(d) + "/" + name;
    if (access(p.c_str(), R_OK) == 0) return p;
  }
  return "";
}

enum class TlsLib { kNone, kOpenSsl, kGnuTls, kNss };

TlsLib classify(const std::string& lib) {
  if (lib.rfind("libssl.so", 0) == 0) return TlsLib::kOpenSsl;
  if (lib.rfind("libgnutls", 0) == 0 || lib.rfind("libcurl-gnutls", 0) == 0) return TlsLib::kGnuTls;
  if (lib.rfind("libnss3", 0) == 0 || lib.rfind("libcurl-nss", 0) == 0) return TlsLib::kNss;
  return TlsLib::kNone;
}

// Breadth-first over the DT_NEEDED closure: which TLS library the program ends up with.
TlsLib tls_in_closure(const std::vector<std::string>& direct, std::string* which) {
  std::vector<std::string> todo = direct;
  std::set<std::string> seen;
  TlsLib found = TlsLib::kNone;
  for (std::size_t i = 0; i < todo.size() && seen.size() < 256; ++i) {
    const std::string lib = todo[i];
    if (!seen.insert(lib).second) continue;
    const TlsLib t = classify(lib);
    if (t == TlsLib::kOpenSsl) {
      *which = lib;
      return t;
    }
    if (t != TlsLib::kNone && found == TlsLib::kNone) {
      found = t;
      *which = lib;
    }
    const std::string path = find_library(lib);
    if (path.empty()) continue;
    MappedFile mf(path);
    const ElfFacts facts = inspect_elf(mf.view());
    for (const std::string& n : facts.needed) todo.push_back(n);
  }
  return found;
}

bool is_interpreter(const std::string& base) {
  for (const char* p : {"python", "ruby", "php", "perl"}) {
    if (base.rfind(p, 0) == 0) return true;
  }
  return false;
}

bool is_shell(const std::string& base) {
  for (const char* s : {"sh", "bash", "dash", "zsh", "ksh"}) {
    if (base == s) return true;
  }
  return false;
}

PreloadProbe probe(const std::string& exe, int depth) {
  PreloadProbe r;
  r.executable = find_in_path(exe);
  if (r.executable.empty() || !is_executable_file(r.executable)) {
    r.reason = "cannot find executable '" + exe + "'";
    return r;
  }
  MappedFile mf(r.executable);
  const std::string_view f = mf.view();
  if (f.size() > 2 && f.substr(0, 2) == "#!") {
    if (depth > 3) {
      r.reason = "too many nested #! interpreters in " + r.executable;
      return r;
    }
    std::string line(f.substr(2, f.find('\n') == std::string_view::npos ? f.size() - 2 : f.find('\n') - 2));
    std::vector<std::string> words;
    for (std::size_t i = 0; i < line.size();) {
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
      std::size_t j = i;
      while (j < line.size() && line[j] != ' ' && line[j] != '\t' && line[j] != '\r') ++j;
      if (j > i) words.push_back(line.substr(i, j - i));
      i = j;
    }
    if (words.empty()) {
      r.reason = r.executable + " has an empty #! line";
      return r;
    }
    std::string interp = words[0];
    if (base_name(interp) == "env") {
      std::size_t k = 1;
      while (k < words.size() && words[k][0] == '-') ++k;  // env -S and friends
      if (k >= words.size()) {
        r.reason = "cannot tell the interpreter of " + r.executable;
        return r;
      }
      interp = words[k];
    }
    if (is_shell(base_name(interp))) {
      r.will_work = true;
      r.reason = r.executable + " is a shell script: programs it starts are captured if they use the "
                 "system OpenSSL 3 (Go, Node.js and static binaries are not)";
      return r;
    }
    PreloadProbe inner = probe(interp, depth + 1);
    inner.reason = r.executable + " runs under " + inner.executable + ": " + inner.reason;
    return inner;
  }
  const ElfFacts facts = inspect_elf(f);
  const std::string base = base_name(r.executable);
  if (!facts.elf) {
    r.reason = r.executable + " is not an ELF executable" + kUseProxy;
    return r;
  }
  if (!facts.elf64) {
    r.reason = r.executable + " is not a 64-bit little-endian ELF file, so it cannot be inspected" + kUseProxy;
    return r;
  }
  if (facts.go) {
    r.reason = r.executable + " is a Go program: Go's crypto/tls does not use OpenSSL, so LD_PRELOAD "
               "cannot see its traffic" + kUseProxy;
    return r;
  }
  if (!facts.interp) {
    r.reason = r.executable + " is statically linked: LD_PRELOAD does not apply to it" +
               (facts.boringssl ? " (and it bundles BoringSSL)" : "") + kUseProxy;
    return r;
  }
  if (facts.defines_ssl) {
    r.reason = r.executable + (facts.boringssl ? " bundles BoringSSL" : " bundles its own copy of OpenSSL") +
               " (e.g. Node.js), whose internal calls LD_PRELOAD cannot hook" + kUseProxy;
    return r;
  }
  std::string which;
  const TlsLib tls = tls_in_closure(facts.needed, &which);
  if (tls == TlsLib::kOpenSsl) {
    r.will_work = true;
    r.reason = r.executable + " uses the system OpenSSL (" + which + ")";
    return r;
  }
  if (tls != TlsLib::kNone) {
    r.reason = r.executable + " uses " + (tls == TlsLib::kGnuTls ? "GnuTLS" : "NSS") + " (" + which +
               "), not OpenSSL" + kUseProxy;
    return r;
  }
  if (is_interpreter(base)) {
    void* h = dlopen("libssl.so.3", RTLD_LAZY | RTLD_LOCAL);
    if (h != nullptr) {
      dlclose(h);
      r.will_work = true;
      r.reason = r.executable + " is an interpreter that loads the system OpenSSL (libssl.so.3) through "
                 "its ssl module";
      return r;
    }
    r.reason = "libssl.so.3 is not installed, so " + r.executable + " cannot use the system OpenSSL" + kUseProxy;
    return r;
  }
  r.reason = r.executable + " does not link libssl (OpenSSL), so there is nothing to hook" + kUseProxy;
  return r;
}

}  // namespace

PreloadProbe probe_preload_target(const std::string& exe) { return probe(exe, 0); }

std::string preload_library_path() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n > 0) {
    std::string self(buf, static_cast<std::size_t>(n));
    const std::size_t slash = self.rfind('/');
    if (slash != std::string::npos) {
      const std::string dir = self.substr(0, slash);
      for (const char* rel : {"/libllmtap_preload.so", "/../lib/llmtap/libllmtap_preload.so",
                              "/../lib/libllmtap_preload.so"}) {
        const std::string p = dir + rel;
        if (access(p.c_str(), R_OK) == 0) return p;
      }
    }
  }
  const std::string built = LLMTAP_PRELOAD_LIBRARY_BUILD_PATH;
  if (!built.empty() && access(built.c_str(), R_OK) == 0) return built;
  return "";
}

}  // namespace llmtap
