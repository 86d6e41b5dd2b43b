// Prints how long `llmtap report` takes over a synthetic store of N spans (default 1,000,000):
// traces of ten spans (workflow, two agents, four generations, two tools, a handoff) spread over a
// day, written through the SqliteStore API, then reported on with the default options.
// Usage: llmtap_report_bench [SPANS] [--keep DIR]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <random>
#include <string>

#include "export/sqlite_store.h"
#include "report/report.h"
#include "report/report_test_traces.h"

using namespace llmtap;
using namespace llmtap::report;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// CPU seconds of this process: on a shared machine the wall time says more about the neighbours.
double cpu_seconds() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }

}  // namespace

int main(int argc, char** argv) {
  long spans = 1'000'000;
  std::string dir;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--keep" && i + 1 < argc) dir = argv[++i];
    else spans = std::strtol(argv[i], nullptr, 10);
  }
  bool temporary = dir.empty();
  if (temporary) {
    char tmpl[] = "/tmp/llmtap-report-bench-XXXXXX";
    dir = ::mkdtemp(tmpl);
  }
  const std::string path = dir + "/traces.db";
  const int traces = static_cast<int>(spans / 10);

  if (!std::filesystem::exists(path)) {
    std::string error;
    auto t0 = std::chrono::steady_clock::now();
    {
      auto store = exporting::SqliteStore::open(path, &error);
      if (!store) {
        std::fprintf(stderr, "%s\n", error.c_str());
        return 1;
      }
      std::mt19937 rng(42);
      for (int n = 0; n < traces; ++n) store->on_trace(testing::synthetic_trace(n, rng));
      store->flush();
    }
    double s = seconds_since(t0);
    std::printf("store: wrote %d traces (%ld spans) in %.1f s (%.0f traces/s)\n", traces,
                static_cast<long>(traces) * 10, s, traces / s);
    std::fflush(stdout);
  }

  std::string error;
  auto source = StoreTraceSource::open(path, &error);
  if (!source) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 1;
  }
  ReportOptions opts;
  opts.since = 0;
  opts.until = testing::kT0 + 400LL * 24 * testing::kHour;
  auto t0 = std::chrono::steady_clock::now();
  double c0 = cpu_seconds();
  auto report = build_report(*source, opts, &error);
  double s = seconds_since(t0), cpu = cpu_seconds() - c0;
  if (!report) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 1;
  }
  std::printf("report --by agent over %lld traces / %lld spans: %.2f s wall, %.2f s CPU (%.0f spans per CPU s), "
              "total cost $%.4f\n",
              static_cast<long long>(report->traces), static_cast<long long>(report->spans), s, cpu,
              static_cast<double>(report->spans) / cpu, report->total.cost_usd);
  opts.by = GroupBy::kTool;
  t0 = std::chrono::steady_clock::now();
  c0 = cpu_seconds();
  report = build_report(*source, opts, &error);
  std::printf("report --by tool: %.2f s wall, %.2f s CPU\n", seconds_since(t0), cpu_seconds() - c0);
  if (temporary) std::filesystem::remove_all(dir);
  return 0;
}
