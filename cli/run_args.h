#pragma once
// Command line of `llmtap run`: `[--mode M] [--quiet] [proxy options] -- CMD [ARGS...]`.
#include <string>
#include <vector>

#include "cli/pipeline.h"
#include "cli/run_mode.h"

namespace llmtap::cli {

struct RunArgs {
  RunMode mode = RunMode::kAuto;
  bool quiet = false;
  bool help = false;
  std::vector<std::string> command;  // CMD and its arguments, untouched
};

// Splits llmtap's own options (before "--") from CMD; the shared proxy options go to OPTS. Without
// "--", CMD starts at the first word that is not an option. Returns "" or an error message.
std::string parse_run_args(std::vector<std::string> args, RunArgs& out, PipelineOptions& opts);

}  // namespace llmtap::cli
