// Prints how long `llmtap report` takes over a synthetic store of N spans (default 1,000,000):
// traces of ten spans (workflow, two agents, four generations, two tools, a handoff) spread over a
// day, written through the SqliteStore API, then reported on with the default options.
// Then the same report read from whole traces (every span row), as before the store kept a
// projection per trace. Usage: llmtap_report_bench [SPANS] [--keep DIR]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <string>

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
  if (std::string e = testing::ensure_synthetic_store(dir, spans); !e.empty()) {
    std::fprintf(stderr, "%s\n", e.c_str());
    return 1;
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
  // The same report over whole traces (every span row with its content): how the report read the
  // store before schema 3 kept a projection per trace.
  opts.by = GroupBy::kAgent;
  t0 = std::chrono::steady_clock::now();
  c0 = cpu_seconds();
  ReportBuilder whole(opts);
  TraceSelection all;
  all.since = opts.since, all.until = opts.until, all.messages = true;
  if (std::string e = source->for_each(all, [&](const Trace& t) { return whole.add(t), true; }); !e.empty()) {
    std::fprintf(stderr, "%s\n", e.c_str());
    return 1;
  }
  const Report from_whole = whole.finish();
  std::printf("report --by agent from whole traces: %.2f s wall, %.2f s CPU (same numbers: %s)\n", seconds_since(t0),
              cpu_seconds() - c0, report_json(from_whole).dump() == report_json(*build_report(*source, opts, &error)).dump() ? "yes" : "NO");
  if (temporary) std::filesystem::remove_all(dir);
  return 0;
}
