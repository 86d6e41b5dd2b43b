#include "collector/preload_probe.h"

#include <elf.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

namespace llmtap {
namespace {

class PreloadProbeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/llmtap-probe-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write_exe(const std::string& name, const std::string& content) {
    const std::string p = dir_ + "/" + name;
    std::ofstream(p, std::ios::binary) << content;
    chmod(p.c_str(), 0755);
    return p;
  }
  // A minimal ELF64 executable with a program interpreter and, optionally, Go's build-info section.
  std::string fake_elf(bool go) {
    const std::string interp = "/lib64/ld-linux-x86-64.so.2";
    const std::string shstr = std::string("\0.shstrtab\0.go.buildinfo\0", 25);
    const std::size_t interp_off = sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr);
    const std::size_t shstr_off = interp_off + interp.size() + 1;
    const std::size_t sh_off = shstr_off + shstr.size();
    Elf64_Ehdr eh{};
    std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_type = ET_EXEC;
    eh.e_machine = EM_X86_64;
    eh.e_version = EV_CURRENT;
    eh.e_phoff = sizeof(Elf64_Ehdr);
    eh.e_shoff = sh_off;
    eh.e_ehsize = sizeof(Elf64_Ehdr);
    eh.e_phentsize = sizeof(Elf64_Phdr);
    eh.e_phnum = 1;
    eh.e_shentsize = sizeof(Elf64_Shdr);
    eh.e_shnum = go ? 3 : 2;
    eh.e_shstrndx = 1;
    Elf64_Phdr ph{};
    ph.p_type = PT_INTERP;
    ph.p_offset = interp_off;
    ph.p_filesz = interp.size() + 1;
    Elf64_Shdr sh[3]{};
    sh[1].sh_name = 1;
    sh[1].sh_type = SHT_STRTAB;
    sh[1].sh_offset = shstr_off;
    sh[1].sh_size = shstr.size();
    sh[2].sh_name = 11;
    sh[2].sh_type = SHT_PROGBITS;
    std::string out(reinterpret_cast<const char*>(&eh), sizeof eh);
    out.append(reinterpret_cast<const char*>(&ph), sizeof ph);
    out.append(interp);
    out.push_back('\0');
    out.append(shstr);
    out.append(reinterpret_cast<const char*>(sh), sizeof(Elf64_Shdr) * eh.e_shnum);
    return out;
  }
  std::string dir_;
};

TEST_F(PreloadProbeTest, CurlLinkingSystemOpenSslWorks) {
  if (access("/usr/bin/curl", X_OK) != 0) GTEST_SKIP() << "no curl";
  const PreloadProbe p = probe_preload_target("/usr/bin/curl");
  EXPECT_TRUE(p.will_work) << p.reason;
  EXPECT_NE(p.reason.find("libssl"), std::string::npos) << p.reason;
}

TEST_F(PreloadProbeTest, PythonInterpreterAndScriptsWork) {
  if (access("/usr/bin/python3", X_OK) != 0) GTEST_SKIP() << "no python3";
  EXPECT_TRUE(probe_preload_target("/usr/bin/python3").will_work);
  const PreloadProbe script = probe_preload_target(write_exe("agent.py", "#!/usr/bin/python3 -u\nprint(1)\n"));
  EXPECT_TRUE(script.will_work) << script.reason;
  EXPECT_NE(script.reason.find("runs under"), std::string::npos) << script.reason;
  EXPECT_TRUE(probe_preload_target(write_exe("run.sh", "#!/bin/sh\nexec true\n")).will_work);
}

TEST_F(PreloadProbeTest, StaticBinaryIsRejectedWithProxySuggestion) {
  const char* candidates[] = {"/sbin/ldconfig", "/usr/sbin/ldconfig"};
  for (const char* c : candidates) {
    if (access(c, X_OK) != 0) continue;
    const PreloadProbe p = probe_preload_target(c);
    EXPECT_FALSE(p.will_work);
    EXPECT_NE(p.reason.find("statically linked"), std::string::npos) << p.reason;
    EXPECT_NE(p.reason.find("--mode proxy"), std::string::npos) << p.reason;
    return;
  }
  GTEST_SKIP() << "no static ldconfig";
}

TEST_F(PreloadProbeTest, GoBinaryIsRejected) {
  const PreloadProbe p = probe_preload_target(write_exe("gotool", fake_elf(true)));
  EXPECT_FALSE(p.will_work);
  EXPECT_NE(p.reason.find("Go program"), std::string::npos) << p.reason;
  EXPECT_NE(p.reason.find("--mode proxy"), std::string::npos) << p.reason;
}

TEST_F(PreloadProbeTest, ProgramWithoutLibsslIsRejected) {
  const PreloadProbe fake = probe_preload_target(write_exe("notls", fake_elf(false)));
  EXPECT_FALSE(fake.will_work);
  EXPECT_NE(fake.reason.find("does not link libssl"), std::string::npos) << fake.reason;
  if (access("/bin/true", X_OK) == 0) {
    EXPECT_FALSE(probe_preload_target("/bin/true").will_work);
  }
}

TEST_F(PreloadProbeTest, MissingOrNonElfTargets) {
  EXPECT_FALSE(probe_preload_target(dir_ + "/does-not-exist").will_work);
  EXPECT_FALSE(probe_preload_target("llmtap-no-such-command-xyz").will_work);
  const PreloadProbe text = probe_preload_target(write_exe("text", "just text, no #! line\n"));
  EXPECT_FALSE(text.will_work);
  EXPECT_NE(text.reason.find("not an ELF"), std::string::npos) << text.reason;
  // Truncated ELF headers must not be read out of bounds.
  const std::string elf = fake_elf(true);
  for (std::size_t n : {std::size_t{4}, std::size_t{20}, std::size_t{70}, elf.size() - 10}) {
    probe_preload_target(write_exe("trunc" + std::to_string(n), elf.substr(0, n)));
  }
}

}  // namespace
}  // namespace llmtap
