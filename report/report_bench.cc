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

Trace synthetic_trace(int n, std::mt19937& rng) {
  char id[40];
  std::snprintf(id, sizeof id, "%032x", n + 1);
  const UnixNanos start = testing::kT0 + static_cast<UnixNanos>(n) * 500 * testing::kMs;
  testing::TraceMaker t(id, start, n % 3 ? "support" : "billing-batch");
  t.root().set("user.id", "u" + std::to_string(rng() % 500));
  t.root().set("llmtap.release", std::string(n % 2 ? "v1.4.2" : "v1.5.0"));
  const int d = static_cast<int>(rng() % 400);
  std::string triage = t.agent("Triage Agent", 0, 200 + d);
  testing::usage(t.generation(triage, "gpt-4.1-mini", 0, 80 + d / 2), 900 + d, 40, 0.0004, 256);
  t.tool(triage, "lookup_order", 80 + d / 2, 120 + d / 2, "{\"order\":" + std::to_string(rng() % 3) + "}");
  testing::usage(t.generation(triage, "gpt-4.1-mini", 120 + d / 2, 200 + d), 1100 + d, 30, 0.0005);
  t.handoff(triage, "Triage Agent", "Billing Agent", 200 + d, 201 + d);
  std::string billing = t.agent("Billing Agent", 201 + d, 500 + d);
  testing::usage(t.generation(billing, n % 7 ? "gpt-4.1" : "unknown-model", 201 + d, 300 + d), 1500, 60,
                 n % 7 ? 0.002 : -1);
  Span& refund = t.tool(billing, "issue_refund", 300 + d, 360 + d, "{\"amount\":10}");
  refund.error = rng() % 20 == 0;
  testing::usage(t.generation(billing, "gpt-4.1", 360 + d, 500 + d), 1700, 80, 0.003);
  return t.take();
}

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
      for (int n = 0; n < traces; ++n) store->on_trace(synthetic_trace(n, rng));
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
