// llmtap: production observability for LLM agents, from the wire.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <malloc.h>
#ifdef LLMTAP_WITH_MIMALLOC
#include <mimalloc.h>
#endif

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "cli/command.h"
#include "cli/pipeline.h"
#include "common/version.h"
#include "common/terminal_text.h"

namespace llmtap::cli {

std::vector<Command>& command_registry() {
  static std::vector<Command> commands;
  return commands;
}

}  // namespace llmtap::cli

namespace {

void print_usage(FILE* out) {
  std::fprintf(out,
               "llmtap %s: execution traces and exact cost of LLM agents, captured on the wire.\n\n"
               "Usage: llmtap SUBCOMMAND [OPTIONS]\n\nSubcommands:\n",
               LLMTAP_VERSION);
  auto commands = llmtap::cli::command_registry();
  std::sort(commands.begin(), commands.end(),
            [](const auto& a, const auto& b) { return std::strcmp(a.name, b.name) < 0; });
  for (const auto& c : commands) std::fprintf(out, "  %-10s %s\n", c.name, c.summary);
  std::fprintf(out,
               "\n`llmtap SUBCOMMAND --help` explains each one. The interface contract is in SPEC.md;\n"
               "data (CA, trace store, export spool) lives in $LLMTAP_DATA_DIR, else\n"
               "$XDG_DATA_HOME/llmtap, else ~/.local/share/llmtap, else $XDG_RUNTIME_DIR/llmtap;\n"
               "it must be owned by you and not writable by group or others.\n");
}

}  // namespace

int main(int argc, char** argv) {
#ifndef LLMTAP_WITH_MIMALLOC
  // A build with glibc's malloc (no libmimalloc-dev). Before any thread starts: glibc gives each
  // thread an arena of its own. Capture records are
  // allocated on the proxy's threads and freed on the decoder's, traces on the decoder, the ticker
  // and the store, and each arena keeps its own fragmented peak: at full speed that was ~55 MB of
  // RSS past what --memory-budget-mb holds (docs/benchmarks.md). MALLOC_ARENA_MAX, when set, wins.
  if (std::getenv("MALLOC_ARENA_MAX") == nullptr) mallopt(M_ARENA_MAX, 2);
#else
  // Memory a thread frees goes back to the OS at once, not after mimalloc's default 25 ms: traces
  // are built on the decode thread and freed on the export and store threads, and at full speed
  // the delayed pages held ~55 MB of RSS past --memory-budget-mb (docs/benchmarks.md). The
  // variable, when set, wins.
  if (std::getenv("MIMALLOC_RESET_DELAY") == nullptr) mi_option_set(mi_option_decommit_delay, 0);
#endif
  // Logs go to stderr: stdout carries machine-readable output (`listening ADDR`, --json, trees).
  spdlog::set_default_logger(spdlog::stderr_color_mt("llmtap"));
  // Log messages quote wire data (hosts, models, provider errors): escape their control characters.
  llmtap::use_terminal_safe_log_format(*spdlog::default_logger());
  if (const char* lvl = std::getenv("LLMTAP_LOG_LEVEL"); lvl && *lvl) {
    // Same rule as --log-level: a level that does not exist is an error, not silently "info".
    if (std::string e = llmtap::cli::set_log_level(lvl, "LLMTAP_LOG_LEVEL"); !e.empty()) {
      std::fprintf(stderr, "llmtap: %s\n", e.c_str());
      return 2;
    }
  }
  if (argc < 2) {
    print_usage(stderr);
    return 2;
  }
  std::string sub = argv[1];
  if (sub == "--help" || sub == "-h" || sub == "help") {
    print_usage(stdout);
    return 0;
  }
  if (sub == "--version" || sub == "-V") {
    std::printf("llmtap %s\n", LLMTAP_VERSION);
    return 0;
  }
  std::vector<std::string> args(argv + 2, argv + argc);
  for (const auto& c : llmtap::cli::command_registry())
    if (sub == c.name) return c.run(args);
  std::fprintf(stderr, "llmtap: unknown subcommand '%s'. Run 'llmtap --help' for the list.\n", sub.c_str());
  return 2;
}
