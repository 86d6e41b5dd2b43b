#pragma once
// Subcommands register themselves: each cli/*_cmd.cc defines one static CommandRegistration, so a
// component adds its command without editing main.cc.
#include <string>
#include <vector>

namespace llmtap::cli {

using CommandFn = int (*)(const std::vector<std::string>& args);  // args after the subcommand name

struct Command {
  const char* name;
  const char* summary;  // one line for `llmtap --help`
  CommandFn run;
};

std::vector<Command>& command_registry();

struct CommandRegistration {
  explicit CommandRegistration(Command c) { command_registry().push_back(c); }
};

}  // namespace llmtap::cli
