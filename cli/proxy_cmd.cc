// `llmtap proxy`: run the proxy and collector until SIGINT/SIGTERM, then export everything.
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/stop_signals.h"
#include "cli/pipeline.h"
#include "cli/ui_launch.h"
#include "ui/ui_server.h"

namespace llmtap::cli {
namespace {

void print_help() {
  std::printf(
      "Usage: llmtap proxy [OPTIONS]\n\n"
      "Runs llmtap's local proxy. Only its owner can use it: clients present the credential kept in\n"
      "proxy-credential in the data directory (CRED below; the second line printed names the file).\n"
      "Point apps at it in any of these ways, no code change needed:\n"
      "  HTTPS_PROXY=http://llmtap:CRED@ADDR (trust the CA: `llmtap ca path`, or `llmtap ca bundle-path`\n"
      "                                      for SSL_CERT_FILE-style variables)\n"
      "  OPENAI_BASE_URL=http://ADDR/t/CRED/openai/v1, ANTHROPIC_BASE_URL=http://ADDR/t/CRED/anthropic,\n"
      "  and /t/CRED/gemini/... for Gemini  (gateway routes: plain HTTP in, verified TLS upstream)\n"
      "Apps reach loopback and private addresses directly (NO_PROXY=localhost,127.0.0.1,::1), not\n"
      "through the proxy, which refuses them unless started with --allow-private-upstream.\n"
      "Processes started with LD_PRELOAD=libllmtap_preload.so report to its collector socket too.\n"
      "Runs are rebuilt into traces and exported; SIGINT/SIGTERM closes and exports every open trace.\n\n"
      "Options:\n%s"
      "  --ui[=ADDR:PORT]         also serve the local web viewer (`llmtap ui`) on ADDR:PORT (default\n"
      "                           %s; port 0 picks a free one) and print `ui URL`\n"
      "  -h, --help               this text\n",
      pipeline_options_help().c_str(), ui::kDefaultUiListen);
}

int run_proxy(const std::vector<std::string>& argv) {
  std::vector<std::string> args = argv;
  for (const auto& a : args)
    if (a == "--help" || a == "-h") {
      print_help();
      return 0;
    }
  // --ui[=ADDR:PORT] is this command's own; the rest are the pipeline's.
  std::string ui_listen;
  for (auto it = args.begin(); it != args.end();) {
    if (*it == "--") break;
    if (*it == "--ui" || it->rfind("--ui=", 0) == 0) {
      ui_listen = *it == "--ui" ? ui::kDefaultUiListen : it->substr(5);
      if (ui_listen.empty()) {
        std::fprintf(stderr, "llmtap proxy: --ui= needs ADDR:PORT\n");
        return 2;
      }
      it = args.erase(it);
    } else {
      ++it;
    }
  }
  PipelineOptions opts;
  opts.process_name = "llmtap-proxy";
  if (auto err = parse_pipeline_options(args, opts); !err.empty()) {
    std::fprintf(stderr, "llmtap proxy: %s\n", err.c_str());
    return 2;
  }
  if (!args.empty()) {
    std::fprintf(stderr, "llmtap proxy: unexpected argument '%s' (see llmtap proxy --help)\n", args[0].c_str());
    return 2;
  }

  // Before any thread starts, so only sigwait below receives them.
  sigset_t stop_signals = block_stop_signals();

  std::string error;
  auto pipeline = Pipeline::start(opts, &error);
  if (!pipeline) {
    std::fprintf(stderr, "llmtap proxy: %s\n", error.c_str());
    return 1;
  }
  // Machine-readable lines: the address, then where the credential is (never the credential itself:
  // stdout often ends up in logs).
  std::printf("listening %s\n", pipeline->proxy_address().c_str());
  if (!pipeline->credential_path().empty()) std::printf("credential %s\n", pipeline->credential_path().c_str());
  std::fflush(stdout);
  if (!pipeline->credential().empty()) {
    const std::string& addr = pipeline->proxy_address();
    const std::string cred = "$(cat " + pipeline->credential_path() + ")";
    std::fprintf(stderr,
                 "llmtap proxy: clients must authenticate; for example\n"
                 "  HTTPS_PROXY=http://llmtap:%s@%s\n"
                 "  OPENAI_BASE_URL=http://%s/t/%s/openai/v1  ANTHROPIC_BASE_URL=http://%s/t/%s/anthropic\n"
                 "  NO_PROXY=localhost,127.0.0.1,::1\n",
                 cred.c_str(), addr.c_str(), addr.c_str(), cred.c_str(), addr.c_str(), cred.c_str());
  }
  std::unique_ptr<ui::UiServer> viewer;
  if (!ui_listen.empty()) {
    if (pipeline->store_path().empty()) {
      std::fprintf(stderr, "llmtap proxy: --ui shows the SQLite store, which this --export list leaves out\n");
      pipeline->shutdown();
      return 2;
    }
    viewer = launch_viewer(ui_listen, pipeline->store_path(), false, &error);
    if (!viewer) {
      std::fprintf(stderr, "llmtap proxy: --ui: %s\n", error.c_str());
      pipeline->shutdown();
      return 1;
    }
  }
  spdlog::info("proxy listening on {}; CA {}; collector socket {}; store {}", pipeline->proxy_address(),
               pipeline->ca_cert_path(), pipeline->collector_socket(),
               pipeline->store_path().empty() ? "(off)" : pipeline->store_path());

  int sig = 0;
  sigwait(&stop_signals, &sig);
  spdlog::info("{}: finishing in-flight exchanges and exporting open traces", sig == SIGINT ? "SIGINT" : "SIGTERM");
  if (viewer) viewer->stop();
  pipeline->shutdown();
  for (const auto& note : pipeline->destinations()) {
    if (note.problem) spdlog::warn("{}", note.text);
    else spdlog::info("{}", note.text);
  }
  spdlog::info("closed {} traces; bye", pipeline->traces().total());
  return 0;
}

CommandRegistration reg({"proxy", "run the local proxy/collector (HTTPS_PROXY, gateway routes, preload)", &run_proxy});

}  // namespace
}  // namespace llmtap::cli
