// `llmtap ui`: the local web viewer over the trace store, until SIGINT/SIGTERM (ui/).
#include <signal.h>

#include <cstdio>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "cli/command.h"
#include "cli/stop_signals.h"
#include "cli/option_cursor.h"
#include "cli/ui_launch.h"
#include "common/data_dir.h"
#include "export/make_exporters.h"

namespace llmtap::cli {
namespace {

constexpr const char* kHelp =
    "Usage: llmtap ui [--listen ADDR:PORT] [--data-dir DIR] [--no-token]\n"
    "\n"
    "Serves the local web viewer over the trace store (<data dir>/traces.db) until SIGINT/SIGTERM:\n"
    "traces with filters, one trace as a waterfall with its spans, messages and tool calls,\n"
    "sessions, dashboards (workflow health, tool risk, cost) and alerts, refreshed while llmtap\n"
    "records. The page and its JSON API (/api/..., SPEC.md \"Viewer API\") are served from loopback\n"
    "only and fetch nothing from elsewhere. Prints `ui URL`: open that URL (it carries this run's\n"
    "access token, which the page keeps as a cookie; scripts send `Authorization: Bearer TOKEN`).\n"
    "Works before anything is recorded: the page fills in once traces arrive.\n"
    "`llmtap proxy --ui` serves the same viewer next to the proxy.\n"
    "\n"
    "  --listen ADDR:PORT   loopback address to serve on (default 127.0.0.1:8377; port 0 picks a\n"
    "                       free port)\n"
    "  --data-dir DIR       data directory (default: $LLMTAP_DATA_DIR, else $XDG_DATA_HOME/llmtap,\n"
    "                       else ~/.local/share/llmtap)\n"
    "  --no-token           serve without an access token: any local user or process can read\n"
    "                       the recorded traces (warns)\n"
    "  -h, --help           this text\n";

int usage_error(const std::string& msg) {
  std::fprintf(stderr, "llmtap ui: %s\n\n%s", msg.c_str(), kHelp);
  return 2;
}

int run_ui(const std::vector<std::string>& args) {
  std::string listen = ui::kDefaultUiListen, data_dir;
  bool no_token = false;
  OptionCursor opt(args);
  while (opt.next()) {
    const std::string& a = opt.name();
    if (a == "--help" || a == "-h") {
      std::fputs(kHelp, stdout);
      return 0;
    } else if (a == "--no-token") {
      no_token = true;
    } else if (a == "--listen" || a == "--data-dir") {
      std::string value;
      if (!opt.value(&value)) return usage_error(a + " needs a value");
      (a == "--listen" ? listen : data_dir) = value;
    } else {
      return usage_error((a.rfind("-", 0) == 0 ? "unknown option '" : "unexpected argument '") + opt.raw() + "'");
    }
  }
  // Before any thread starts, so only sigwait below receives them.
  sigset_t stop_signals = block_stop_signals();

  if (data_dir.empty()) data_dir = default_data_dir();
  std::string error;
  auto viewer = launch_viewer(listen, exporting::store_path_in(data_dir), no_token, &error);
  if (!viewer) {
    std::fprintf(stderr, "llmtap ui: %s\n", error.c_str());
    return 1;
  }
  int sig = 0;
  sigwait(&stop_signals, &sig);
  viewer->stop();
  return 0;
}

CommandRegistration reg({"ui", "the local web viewer: traces, sessions, dashboards, alerts", &run_ui});

}  // namespace

std::unique_ptr<ui::UiServer> launch_viewer(const std::string& listen, const std::string& store_path, bool no_token,
                                            std::string* error) {
  ui::UiOptions o;
  o.listen = listen;
  o.store_path = store_path;
  o.require_token = !no_token;
  auto viewer = ui::UiServer::start(o, error);
  if (!viewer) return nullptr;
  std::printf("ui %s\n", viewer->url().c_str());
  std::fflush(stdout);
  if (no_token) spdlog::warn("ui: --no-token: any local user or process can read the recorded traces at {}", viewer->url());
  spdlog::info("ui: viewer on http://{}/ over {}", viewer->address(), store_path);
  return viewer;
}

}  // namespace llmtap::cli
