// Parsing of the options shared by `llmtap proxy` and `llmtap run` (SPEC.md, "Command line").
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <string>
#include <vector>

#include "cli/pipeline.h"
#include "common/thread_priority.h"
#include "parsers/header_filter.h"

#include <spdlog/spdlog.h>

namespace llmtap::cli {

namespace {

bool parse_int(const std::string& s, std::int64_t& out) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno != 0 || *end != '\0' || v < 0) return false;
  out = v;
  return true;
}

// An HTTP field name (RFC 9110 token) that carries no credential.
std::string check_attribution_header(const std::string& option, const std::string& name) {
  if (name.empty()) return option + " needs a header name";
  for (unsigned char c : name)
    if (!(std::isalnum(c) || std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos))
      return option + " wants an HTTP header name, got '" + name + "'";
  if (is_credential_header(name))
    return option + " may not name a credential header ('" + name + "'): its value would be recorded";
  return "";
}

}  // namespace

std::string set_log_level(const std::string& value, const char* source) {
  auto level = spdlog::level::from_str(value);
  if (level == spdlog::level::off && value != "off")
    return std::string(source) + " wants trace|debug|info|warn|error|critical|off, got '" + value + "'";
  spdlog::set_level(level);
  return "";
}

std::string pipeline_options_help(const PipelineHelpDefaults& d) {
  std::string out;
  out += "  --listen ADDR:PORT       where the proxy listens (default " + std::string(d.listen) +
         "; port 0 picks a free\n"
         "                           port; the address is printed as `listening ADDR:PORT`)\n";
  out += "  --upstream NAME=URL      reach provider NAME (openai, anthropic, gemini, ...) at URL instead of\n"
         "                           its public host; applies to gateway routes and intercepted CONNECTs\n"
         "  --upstream-ca FILE       also trust this CA (PEM) for upstream TLS; repeatable\n"
         "  --intercept-host HOST    also decrypt CONNECT traffic to HOST; repeatable\n"
         "  --export SPEC            otlp | jsonl=PATH (- for stdout) | sqlite[=PATH] | console; repeatable\n"
         "                           (default: the SQLite store; otlp is added when OTEL_EXPORTER_OTLP_*\n"
         "                           endpoint variables are set)\n"
         "  --pricing FILE           layer a price table over the embedded one; repeatable\n"
         "  --agent-names FILE       JSON rules naming agents from their instructions (RE2 patterns)\n"
         "  --redact PATTERN         also replace matches of PATTERN (RE2) by [REDACTED:custom]; repeatable\n"
         "  --no-redact-class LIST   keep these classes (comma-separated, e.g. email,phone); see SPEC.md\n"
         "  --trace-idle-ms N        close a trace after N ms without activity (default 30000)\n"
         "  --max-open-traces N      at most N traces open at once; past it the least recently active\n"
         "                           close early, exported with llmtap.trace.closed_early (default 50000)\n"
         "  --memory-budget-mb N     bytes held for traffic in memory, shared by the capture queue, open\n"
         "                           traces, the closed-trace index and the store queue; near it the\n"
         "                           store spools, the oldest idle traces close early (marked as above)\n"
         "                           and, at it, capture drops counted bytes (default 128)\n"
         "  --retention AGE          delete stored traces older than AGE (7d, 12h, 2w; off keeps all;\n"
         "                           default 30d), checked at start and every minute in the background\n"
         "  --max-store-mb N         delete the oldest stored traces while the store exceeds N MB\n"
         "                           (0: no cap; default 1024)\n"
         "  --max-spool-mb N         at most N MB of traces waiting on disk when the store falls behind;\n"
         "                           past it closing traces waits for the store (0: no cap; default 1024)\n"
         "  --max-capture-spool-mb N at most N MB of captured traffic waiting on disk (encrypted)\n"
         "                           when decoding falls behind its memory share; past it capture\n"
         "                           drops counted bytes; a stop leaves the rest for the next start\n"
         "                           (0: no spool, drop at once; default 4096)\n"
         "  --io-threads N           threads forwarding traffic (default 2; one more thread decodes\n"
         "                           the captured bytes, others export)\n"
         "  --background-nice N|idle run decoding, trace building, export and the store N nice levels\n"
         "                           below the threads forwarding traffic, so that on a busy machine\n"
         "                           they yield to the app's requests and catch up when it is idle\n"
         "                           (0 to 19; 0: same priority; default 10); idle: only on a core\n"
         "                           nothing else wants (SCHED_IDLE), the lowest tail latency, but\n"
         "                           no share at all of a machine that never idles\n"
         "  --data-dir DIR           CA, store and spool location (default $LLMTAP_DATA_DIR, else\n"
         "                           $XDG_DATA_HOME/llmtap, else ~/.local/share/llmtap)\n"
         "  --user-header NAME       request header naming the end user (recorded as user.id, hashed)\n"
         "  --session-header NAME    request header naming the session/conversation (session.id)\n"
         "  --raw-user-ids           record user ids as sent instead of a salted hash\n"
         "  --no-collector           do not listen for the LD_PRELOAD shim\n"
         "  --no-auth                let any local user use the proxy (no credential; warns)\n"
         "  --allow-remote           allow a non-loopback --listen address (warns)\n"
         "  --allow-private-upstream let apps reach loopback/private addresses through the proxy\n";
  out += "  --alert-rules FILE       alert on cost, spend, budgets, tool failures, latency and loops as\n"
         "                           this YAML file says (SPEC.md, \"Alert rules\"); see `llmtap alerts`\n"
         "  --enforce-budgets        answer a user's or session's model calls with the provider's 429\n"
         "                           error once its budget (a user_budget/session_budget rule) is spent\n"
         "  --metrics-listen ADDR:PORT  serve Prometheus metrics at http://ADDR:PORT/metrics (loopback;\n"
         "                           another address needs --allow-remote)\n";
  out += "  --log-level LEVEL        trace|debug|info|warn|error|off (default " + std::string(d.log_level) +
         "; also $LLMTAP_LOG_LEVEL)\n";
  return out;
}

bool pipeline_option_takes_value(std::string_view name) {
  static constexpr std::string_view kWithValue[] = {
      "--listen", "--upstream", "--upstream-ca", "--intercept-host", "--export",
      "--pricing", "--agent-names", "--redact", "--no-redact-class", "--trace-idle-ms", "--max-open-traces", "--memory-budget-mb", "--io-threads", "--background-nice", "--data-dir", "--log-level",
      "--user-header", "--session-header", "--alert-rules", "--metrics-listen", "--retention", "--max-store-mb",
      "--max-spool-mb", "--max-capture-spool-mb"};
  for (auto k : kWithValue)
    if (name == k) return true;
  return false;
}

std::string parse_pipeline_options(std::vector<std::string>& args, PipelineOptions& opts) {
  std::vector<std::string> rest;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {  // everything after belongs to the caller (llmtap run's CMD)
      rest.insert(rest.end(), args.begin() + static_cast<long>(i), args.end());
      break;
    }
    std::string name = a, value;
    bool has_inline = false;
    if (a.rfind("--", 0) == 0) {
      if (auto eq = a.find('='); eq != std::string::npos) {
        name = a.substr(0, eq);
        value = a.substr(eq + 1);
        has_inline = true;
      }
    }
    const bool takes_value = pipeline_option_takes_value(name);
    if (name == "--no-collector") {
      opts.collector_socket = false;
      continue;
    }
    if (name == "--raw-user-ids") {
      opts.raw_user_ids = true;
      continue;
    }
    if (name == "--enforce-budgets") {
      opts.enforce_budgets = true;
      continue;
    }
    bool* flag = name == "--no-auth"                  ? &opts.require_auth
                 : name == "--allow-remote"           ? &opts.allow_remote
                 : name == "--allow-private-upstream" ? &opts.allow_private_upstream
                                                      : nullptr;
    if (flag) {
      *flag = name != "--no-auth";  // --no-auth clears require_auth, the others set theirs
      continue;
    }
    if (!takes_value) {
      rest.push_back(a);
      continue;
    }
    if (!has_inline) {
      if (i + 1 >= args.size()) return name + " needs a value";
      value = args[++i];
    }
    if (name == "--listen") {
      if (value.find(':') == std::string::npos) return "--listen wants ADDR:PORT, got '" + value + "'";
      opts.listen = value;
    } else if (name == "--upstream") {
      auto eq = value.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == value.size())
        return "--upstream wants NAME=URL (e.g. openai=https://127.0.0.1:9443), got '" + value + "'";
      std::string url = value.substr(eq + 1);
      if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
        return "--upstream URL must start with http:// or https://, got '" + url + "'";
      opts.upstreams[value.substr(0, eq)] = url;
    } else if (name == "--upstream-ca") {
      opts.upstream_cas.push_back(value);
    } else if (name == "--intercept-host") {
      opts.intercept_hosts.push_back(value);
    } else if (name == "--export") {
      opts.exports.push_back(value);
    } else if (name == "--pricing") {
      opts.pricing_files.push_back(value);
    } else if (name == "--agent-names") {
      opts.agent_names_file = value;
    } else if (name == "--redact") {
      opts.redact_patterns.push_back(value);
    } else if (name == "--no-redact-class") {
      for (std::size_t b = 0; b <= value.size();) {
        std::size_t e = value.find(',', b);
        if (e == std::string::npos) e = value.size();
        if (e > b) opts.no_redact_classes.insert(value.substr(b, e - b));
        b = e + 1;
      }
    } else if (name == "--trace-idle-ms") {
      if (!parse_int(value, opts.trace_idle_ms) || opts.trace_idle_ms == 0)
        return "--trace-idle-ms wants a positive integer, got '" + value + "'";
    } else if (name == "--max-open-traces") {
      if (!parse_int(value, opts.max_open_traces) || opts.max_open_traces < 1)
        return "--max-open-traces wants a positive integer, got '" + value + "'";
    } else if (name == "--memory-budget-mb") {
      if (!parse_int(value, opts.memory_budget_mb) || opts.memory_budget_mb < 1 || opts.memory_budget_mb > (1 << 20))
        return "--memory-budget-mb wants a whole number of MB from 1 to 1048576, got '" + value + "'";
    } else if (name == "--io-threads") {
      if (!parse_int(value, opts.io_threads) || opts.io_threads < 1 || opts.io_threads > 256)
        return "--io-threads wants a whole number from 1 to 256, got '" + value + "'";
    } else if (name == "--background-nice") {
      if (value == "idle") opts.background_nice = kBackgroundIdle;
      else if (!parse_int(value, opts.background_nice) || opts.background_nice < 0 || opts.background_nice > kMaxBackgroundNice)
        return "--background-nice wants idle or a whole number from 0 to 19, got '" + value + "'";
    } else if (name == "--data-dir") {
      opts.data_dir = value;
    } else if (name == "--user-header" || name == "--session-header") {
      if (auto e = check_attribution_header(name, value); !e.empty()) return e;
      (name == "--user-header" ? opts.user_header : opts.session_header) = value;
    } else if (name == "--alert-rules") {
      opts.alert_rules_file = value;
    } else if (name == "--metrics-listen") {
      if (value.find(':') == std::string::npos) return "--metrics-listen wants ADDR:PORT, got '" + value + "'";
      opts.metrics_listen = value;
    } else if (name == "--retention") {
      if (auto e = exporting::parse_retention_age(value, &opts.store_retention.max_age_ns); !e.empty()) return e;
    } else if (name == "--max-store-mb") {
      if (auto e = exporting::parse_max_store_mb(value, &opts.store_retention.max_bytes); !e.empty()) return e;
    } else if (name == "--max-spool-mb") {
      if (auto e = exporting::parse_megabytes("--max-spool-mb", value, &opts.store_max_spool_bytes); !e.empty()) return e;
    } else if (name == "--max-capture-spool-mb") {
      if (auto e = exporting::parse_megabytes("--max-capture-spool-mb", value, &opts.capture_spool_max_bytes,
                                               "no capture spool");
          !e.empty())
        return e;
    } else if (name == "--log-level") {
      if (std::string e = set_log_level(value, "--log-level"); !e.empty()) return e;
    }
  }
  args = std::move(rest);
  return "";
}

}  // namespace llmtap::cli
