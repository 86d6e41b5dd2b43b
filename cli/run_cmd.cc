// `llmtap run [--mode auto|proxy|gateway|preload] [--quiet] [proxy options] -- CMD [ARGS...]`:
// starts an embedded llmtap (or uses $LLMTAP_ENDPOINT), runs CMD with the capture environment,
// forwards signals, exits with CMD's status, then closes and exports every trace and prints them.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "cli/child_process.h"
#include "cli/command.h"
#include "cli/pipeline.h"
#include "cli/run_args.h"
#include "cli/run_env.h"
#include "cli/run_mode.h"
#include "cli/run_report.h"
#include "collector/preload_probe.h"
#include "common/data_dir.h"
#include "proxy/proxy_auth.h"

#include <spdlog/spdlog.h>

namespace llmtap::cli {
namespace {

const char* kRunHelp =
    "Usage: llmtap run [--mode auto|proxy|gateway|preload] [--quiet] [proxy options] -- CMD [ARGS...]\n"
    "\n"
    "Runs CMD with its LLM traffic captured, with no change to the program. llmtap starts an embedded\n"
    "proxy/collector on an ephemeral loopback port (or, when LLMTAP_ENDPOINT=ADDR:PORT is set, uses that\n"
    "running llmtap and only sets the environment), runs CMD, forwards SIGINT/SIGTERM/SIGHUP/SIGQUIT to\n"
    "it and exits with its exit code (128+N when a signal N killed it; 127 when CMD is not found). When\n"
    "CMD ends every trace is closed and exported, stored in the local SQLite store, and its tree plus a\n"
    "cost summary are printed to stderr (whatever the exporters). If the data directory cannot be\n"
    "written, CMD still runs and is captured, with this run's files in a temporary directory.\n"
    "\n"
    "Modes (what CMD's environment gets):\n"
    "  proxy    HTTPS_PROXY, https_proxy, HTTP_PROXY, http_proxy -> llmtap; NO_PROXY and no_proxy keep\n"
    "           your entries and add loopback (127.0.0.1, localhost, ::1: local services go direct);\n"
    "           NODE_USE_ENV_PROXY=1; NODE_EXTRA_CA_CERTS=llmtap's CA; SSL_CERT_FILE, REQUESTS_CA_BUNDLE\n"
    "           and CURL_CA_BUNDLE = system roots + llmtap's CA. A trust file you set already is\n"
    "           extended with llmtap's CA (a combined copy in the data directory), not replaced.\n"
    "  gateway  OPENAI_BASE_URL=http://ADDR/openai/v1, ANTHROPIC_BASE_URL=http://ADDR/anthropic,\n"
    "           GOOGLE_GEMINI_BASE_URL and GEMINI_BASE_URL=http://ADDR/gemini. For clients that ignore\n"
    "           proxy variables (Node before 22.21, whose fetch has no proxy support). A base URL you\n"
    "           set already becomes that provider's --upstream.\n"
    "  preload  LD_PRELOAD += libllmtap_preload.so and LLMTAP_COLLECTOR_SOCKET: captures the plaintext\n"
    "           of dynamically linked OpenSSL programs (python, curl, ...) with no proxy and no CA.\n"
    "           LLMTAP_HOSTS adds hosts to capture beside the providers'.\n"
    "  auto     (default) per target: Node -> proxy + gateway (fetch honours the proxy from 22.21/24.5);\n"
    "           a dynamically linked OpenSSL program -> preload; Go, static binaries, scripts and\n"
    "           anything else -> proxy + gateway. Prints one line saying what it chose and why.\n"
    "           With proxy and gateway together, llmtap's own address is added to NO_PROXY too.\n"
    "\n"
    "Options:\n"
    "  --mode MODE              auto | proxy | gateway | preload (default auto)\n"
    "  --quiet                  print nothing of llmtap's own (no mode line, trees or summary)\n"
    "%s"
    "  -h, --help               this text\n"
    "\nExample: llmtap run -- node agent.mjs\n"
    "         llmtap run --export jsonl=spans.jsonl -- python3 app.py\n";

// libllmtap_preload.so: $LLMTAP_PRELOAD_LIBRARY, else next to the llmtap binary, else ../lib/llmtap.
std::string find_preload_library(const EnvMap& env) {
  if (auto it = env.find("LLMTAP_PRELOAD_LIBRARY"); it != env.end() && !it->second.empty())
    return ::access(it->second.c_str(), R_OK) == 0 ? it->second : "";
  char self[4096];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return "";
  std::string dir(self, static_cast<std::size_t>(n));
  dir = dir.substr(0, dir.rfind('/'));
  for (const std::string& p : {dir + "/libllmtap_preload.so", dir + "/../lib/llmtap/libllmtap_preload.so"})
    if (::access(p.c_str(), R_OK) == 0) return p;
  return "";
}

std::string strip_endpoint(std::string e) {
  for (const char* scheme : {"http://", "https://"})
    if (e.rfind(scheme, 0) == 0) e = e.substr(std::strlen(scheme));
  while (!e.empty() && e.back() == '/') e.pop_back();
  return e;
}

int run_command(const std::vector<std::string>& raw_args) {
  // llmtap's own progress logs would interleave with CMD's output: warnings only, unless asked
  // (LLMTAP_LOG_LEVEL, or --log-level parsed below).
  const char* lvl = std::getenv("LLMTAP_LOG_LEVEL");
  spdlog::set_level(spdlog::level::warn);
  if (lvl && *lvl) set_log_level(lvl, "LLMTAP_LOG_LEVEL");  // main() refused an invalid one already
  PipelineOptions opts;
  opts.listen = "127.0.0.1:0";
  opts.report_tree_bytes = RunTraces::kDefaultKeptBytes;
  RunArgs ra;
  if (std::string err = parse_run_args(raw_args, ra, opts); !err.empty()) {
    std::fprintf(stderr, "llmtap run: %s. See 'llmtap run --help'.\n", err.c_str());
    return 2;
  }
  if (ra.help) {
    // Defaults as `llmtap run` applies them: an ephemeral port, warnings only.
    std::printf(kRunHelp, pipeline_options_help({.listen = "127.0.0.1:0", .log_level = "warn"}).c_str());
    return 0;
  }
  if (ra.quiet) opts.report_tree_bytes = 0;  // no report to print
  if (ra.command.empty()) {
    std::fprintf(stderr, "llmtap run: no command given. Usage: llmtap run [OPTIONS] -- CMD [ARGS...]\n");
    return 2;
  }

  const EnvMap user_env = current_environment();
  auto path_it = user_env.find("PATH");
  int lookup_errno = 0;
  std::string program = find_in_path(ra.command[0], path_it == user_env.end() ? "" : path_it->second, &lookup_errno);
  if (program.empty()) {
    std::fprintf(stderr, "llmtap run: %s: %s\n", ra.command[0].c_str(),
                 lookup_errno == EACCES ? "permission denied" : "command not found");
    return lookup_errno == EACCES ? 126 : 127;
  }

  auto endpoint_it = user_env.find("LLMTAP_ENDPOINT");
  const bool use_running = endpoint_it != user_env.end() && !endpoint_it->second.empty();
  if (opts.data_dir.empty()) opts.data_dir = default_data_dir();
  if (opts.data_dir.empty()) {
    std::fprintf(stderr, "llmtap run: %s\n", no_data_dir_message().c_str());
    return 2;
  }

  RunEndpoints ep;
  ep.bundle_dir = opts.data_dir;
  std::string preload_lib = find_preload_library(user_env);
  bool preload_available = !preload_lib.empty() && (use_running ? user_env.count("LLMTAP_COLLECTOR_SOCKET") > 0
                                                                : opts.collector_socket);

  // Decide the capture paths first: a base URL the user set must become an upstream before start.
  ModeDecision decision;
  if (ra.mode == RunMode::kAuto) {
    decision = decide_auto_mode(inspect_target(program, user_env), preload_available);
  } else {
    decision.modes = modes_for(ra.mode);
    if (decision.modes.preload && !preload_available) {
      std::fprintf(stderr, "llmtap run: preload mode needs libllmtap_preload.so %s\n",
                   preload_lib.empty() ? "(not found next to llmtap; set LLMTAP_PRELOAD_LIBRARY)"
                                       : "and the collector socket (drop --no-collector)");
      return 2;
    }
    if (decision.modes.preload && !decision.modes.proxy) {
      // The shim only sees programs that call the system OpenSSL dynamically; say so up front
      // rather than run a program whose traffic cannot be captured.
      PreloadProbe probe = probe_preload_target(program);
      if (!probe.will_work) {
        std::fprintf(stderr, "llmtap run: preload mode cannot capture %s: %s\n", ra.command[0].c_str(),
                     probe.reason.c_str());
        return 2;
      }
    }
  }
  if (decision.modes.gateway)
    for (const auto& u : user_base_urls(user_env))
      if (!opts.upstreams.count(u.provider)) opts.upstreams[u.provider] = u.upstream;

  std::unique_ptr<Pipeline> pipeline;
  if (use_running) {
    ep.proxy_address = strip_endpoint(endpoint_it->second);
    ep.ca_cert_path = opts.data_dir + "/ca.pem";
    ep.ca_bundle_path = opts.data_dir + "/ca-bundle.pem";
    auto sock = user_env.find("LLMTAP_COLLECTOR_SOCKET");
    ep.collector_socket = sock == user_env.end() ? "" : sock->second;
    // The running llmtap keeps its credential in the data directory we share with it.
    std::string path;
    if (std::string e = proxy::load_or_create_credential(opts.data_dir, &ep.proxy_credential, &path); !e.empty())
      std::fprintf(stderr, "llmtap run: warning: %s\n", e.c_str());
  } else {
    if (opts.process_name.empty()) opts.process_name = process_name_for_command(ra.command);
    std::string error;
    pipeline = Pipeline::start(opts, &error);
    if (!pipeline) {
      std::fprintf(stderr, "llmtap run: cannot start the proxy: %s\n", error.c_str());
      return 1;
    }
    ep.bundle_dir = pipeline->data_dir();  // a temporary one if the configured one is unusable
    ep.proxy_address = pipeline->proxy_address();
    ep.ca_cert_path = pipeline->ca_cert_path();
    ep.ca_bundle_path = pipeline->ca_bundle_path();
    ep.collector_socket = pipeline->collector_socket();
    ep.proxy_credential = pipeline->credential();
  }
  ep.preload_library = preload_lib;

  RunEnvironment env = build_run_environment(user_env, ep, decision.modes);
  if (!use_running) env.env["LLMTAP_ENDPOINT"] = ep.proxy_address;  // nested `llmtap run` reuses us
  if (std::string problem = write_ca_bundles(env.bundles); !problem.empty())
    std::fprintf(stderr, "llmtap run: warning: %s\n", problem.c_str());
  if (!ra.quiet) {
    if (ra.mode == RunMode::kAuto)
      std::fprintf(stderr, "llmtap run: %s\n", decision.summary.c_str());
    if (use_running) std::fprintf(stderr, "llmtap run: using the running llmtap at %s\n", ep.proxy_address.c_str());
  }

  std::string spawn_error;
  int pid = spawn_child(program, ra.command, to_envp(env.env), &spawn_error);
  int code;
  std::unique_ptr<SignalForwarder> forwarder;
  if (pid < 0) {
    std::fprintf(stderr, "llmtap run: %s: %s\n", ra.command[0].c_str(), spawn_error.c_str());
    code = 126;
  } else {
    forwarder = std::make_unique<SignalForwarder>(pid);
    code = wait_for_child(pid);
    forwarder->child_exited();  // a second Ctrl-C must not cut the export short
  }

  if (pipeline) {
    pipeline->shutdown();
    std::vector<std::string> lines;
    for (const auto& note : pipeline->destinations())
      if (!ra.quiet || note.problem) lines.push_back(note.text);  // a loss is reported even with --quiet
    if (!ra.quiet) print_run_report(stderr, pipeline->traces().snapshot(), lines);
    else
      for (const auto& l : lines) std::fprintf(stderr, "llmtap run: %s\n", l.c_str());
  }
  return code;
}

CommandRegistration reg({"run", "run a command with its LLM traffic captured and traced", &run_command});

}  // namespace
}  // namespace llmtap::cli
