#pragma once
// `llmtap run --mode auto`: what kind of program CMD is, and which capture path suits it.
//   - Node: proxy variables (honoured by fetch from Node 22.21 / 24.5 with NODE_USE_ENV_PROXY=1) plus
//     gateway base URLs (older Node's fetch ignores proxies; SDKs honour base URLs);
//   - a dynamically linked program using the system OpenSSL (curl, python, ...): the preload shim;
//   - Go, static binaries, scripts and anything else: proxy plus gateway variables.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/run_env.h"

namespace llmtap::cli {

enum class RunMode { kAuto, kProxy, kGateway, kPreload };
std::optional<RunMode> parse_run_mode(std::string_view s);

// What ELF headers say about a binary. Parsed from the file's bytes (pure).
struct ElfInfo {
  bool is_elf = false;
  bool dynamic = false;           // has a PT_INTERP program header
  bool go = false;                // Go build id note or .go.buildinfo section
  std::vector<std::string> needed;  // DT_NEEDED entries
};
ElfInfo parse_elf(std::string_view bytes);

// "#!/usr/bin/env node --flag" -> {"/usr/bin/env", "node", "--flag"}; empty if no shebang.
std::vector<std::string> parse_shebang(std::string_view first_line);

// "v22.21.0" -> true. NODE_USE_ENV_PROXY makes fetch honour the proxy variables from 22.21 (22.x)
// and 24.5 (24.x); later majors have it too.
bool node_honours_env_proxy(std::string_view node_version);

struct TargetInfo {
  std::string path;          // the resolved program (the interpreter, for scripts)
  std::string script;        // the script, when CMD is a #! script
  bool is_node = false;
  std::string node_version;  // from `node --version`, "" if unknown
  bool is_python = false;
  ElfInfo elf;
  bool links_openssl = false;  // libssl reachable through DT_NEEDED (directly or transitively)
};

struct ModeDecision {
  CaptureModes modes;
  std::string summary;  // one line: what was chosen and why
};

// Pure: the auto choice for TARGET. PRELOAD_AVAILABLE says whether the shim and collector exist.
ModeDecision decide_auto_mode(const TargetInfo& target, bool preload_available);
// The fixed choices: proxy, gateway or preload.
CaptureModes modes_for(RunMode mode);

// The workflow-name fallback for CMD: the program's name, or the script's for an interpreter
// ("node main.mjs" -> "main.mjs", "python3 -m app" -> "app").
std::string process_name_for_command(const std::vector<std::string>& cmd);

// Inspects RESOLVED_PATH on disk (reads headers, follows #!, runs `node --version` for Node).
TargetInfo inspect_target(const std::string& resolved_path, const EnvMap& env);

}  // namespace llmtap::cli
