// Prints how long the viewer's API takes over a synthetic store of N spans (default 1,000,000:
// report_test_traces.h's synthetic traces), each endpoint called over HTTP on loopback several
// times. Not a test: numbers are printed, never asserted.
// Usage: llmtap_ui_bench [SPANS] [--keep DIR] [--repeat N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "report/report_test_traces.h"
#include "ui/ui_server.h"
#include "ui/ui_test_client.h"

using namespace llmtap;

namespace {

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  long spans = 1'000'000;
  int repeat = 5;
  std::string dir;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--keep" && i + 1 < argc) dir = argv[++i];
    else if (a == "--repeat" && i + 1 < argc) repeat = std::max(1, std::atoi(argv[++i]));
    else spans = std::strtol(argv[i], nullptr, 10);
  }
  const bool temporary = dir.empty();
  if (temporary) {
    char tmpl[] = "/tmp/llmtap-ui-bench-XXXXXX";
    dir = ::mkdtemp(tmpl);
  }
  const std::string path = dir + "/traces.db";
  const int traces = static_cast<int>(spans / 10);
  if (std::string e = report::testing::ensure_synthetic_store(dir, spans); !e.empty())
    return std::fprintf(stderr, "%s\n", e.c_str()), 1;

  ui::UiOptions o;
  o.listen = "127.0.0.1:0";
  o.store_path = path;
  std::string error;
  auto server = ui::UiServer::start(o, &error);
  if (!server) return std::fprintf(stderr, "%s\n", error.c_str()), 1;
  char last_id[40];
  std::snprintf(last_id, sizeof last_id, "%032x", traces);
  const std::string endpoints[] = {
      "/api/meta",
      "/api/traces?limit=50",
      "/api/traces?limit=50&errors=only",
      "/api/traces?limit=50&user=u7",
      std::string("/api/traces/") + last_id,
      "/api/sessions?limit=50",
      "/api/sessions/s7",
      "/api/dashboards/health",
      "/api/dashboards/tools",
      "/api/dashboards/cost",
      "/api/alerts",
  };
  std::printf("viewer API over %d traces (%ld spans), %d calls each; milliseconds:\n", traces, spans, repeat);
  std::printf("  %-40s %10s %10s %10s %12s\n", "endpoint", "median", "min", "max", "bytes");
  for (const auto& target : endpoints) {
    std::vector<double> times;
    std::size_t bytes = 0;
    for (int i = 0; i < repeat; ++i) {
      auto t0 = std::chrono::steady_clock::now();
      auto r = ui::testing::get(server->address(), target, server->token());
      times.push_back(ms_since(t0));
      if (r.status != 200) return std::fprintf(stderr, "%s: %d %s%s\n", target.c_str(), r.status, r.error.c_str(), r.body.c_str()), 1;
      bytes = r.body.size();
    }
    std::sort(times.begin(), times.end());
    std::printf("  %-40s %10.1f %10.1f %10.1f %12zu\n", target.c_str(), times[times.size() / 2], times.front(),
                times.back(), bytes);
  }
  server->stop();
  if (temporary) std::filesystem::remove_all(dir);
  return 0;
}
