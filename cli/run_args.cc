// Command line of `llmtap run`: its own options, the shared proxy options, then CMD.
#include "cli/run_args.h"

#include <algorithm>

namespace llmtap::cli {

namespace {

// Options that take a separate value word (for finding where CMD starts when "--" is omitted).
bool takes_value(const std::string& a) {
  static const char* kWithValue[] = {"--mode", "--listen", "--upstream", "--upstream-ca", "--intercept-host",
                                     "--export", "--pricing", "--agent-names", "--redact", "--no-redact-class", "--trace-idle-ms",
                                     "--data-dir", "--log-level"};
  for (const char* k : kWithValue)
    if (a == k) return true;
  return false;
}

}  // namespace

std::string parse_run_args(std::vector<std::string> args, RunArgs& out, PipelineOptions& opts) {
  // llmtap's words end at "--", or else at the first word that is neither an option nor its value:
  // everything after belongs to CMD, untouched (its own --flags included).
  std::size_t cmd_start = args.size();
  bool separator = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--") {
      cmd_start = i;
      separator = true;
      break;
    }
    if (args[i].rfind("-", 0) != 0) {
      cmd_start = i;
      break;
    }
    if (takes_value(args[i])) ++i;
  }
  out.command.assign(args.begin() + static_cast<long>(std::min(args.size(), cmd_start + (separator ? 1 : 0))),
                     args.end());
  std::vector<std::string> own(args.begin(), args.begin() + static_cast<long>(cmd_start));
  std::vector<std::string> rest;
  for (std::size_t j = 0; j < own.size(); ++j) {
    const std::string& a = own[j];
    if (a == "--help" || a == "-h") {
      out.help = true;
    } else if (a == "--quiet" || a == "-q") {
      out.quiet = true;
    } else if (a == "--mode" || a.rfind("--mode=", 0) == 0) {
      std::string v;
      if (a == "--mode") {
        if (j + 1 >= own.size()) return "--mode needs a value";
        v = own[++j];
      } else {
        v = a.substr(7);
      }
      auto m = parse_run_mode(v);
      if (!m) return "--mode wants auto, proxy, gateway or preload, got '" + v + "'";
      out.mode = *m;
    } else {
      rest.push_back(a);
    }
  }
  if (std::string err = parse_pipeline_options(rest, opts); !err.empty()) return err;
  if (!rest.empty()) return "unknown option '" + rest.front() + "'";
  return "";
}

}  // namespace llmtap::cli
