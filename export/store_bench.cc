// Prints the trace store's sustained write rate: spans/s and traces/s through SqliteStore (on_trace
// from one thread, the store's own thread writing), for gateway-shaped traces (a workflow root and
// one generation with the attributes a chat call carries), with and without captured content, and
// for ten-span agent traces. Then the cost of opening a reader and of the writer's quick_check on the
// resulting store. Uses only SqliteStore's public API, so the same file measures any version.
// Usage: store_bench [TRACES] [--keep DIR]     (default 100,000 traces per workload)
//        store_bench --writer [TRACES]          the SQLite thread's work alone, without threads (below)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <unistd.h>

#include <spdlog/spdlog.h>

#include "export/sqlite_store.h"
#include "export/sqlite_util.h"
#include "export/store_encoding.h"
#include "export/store_file.h"
#include "export/store_writer.h"

using namespace llmtap;
using namespace llmtap::exporting;

namespace {

using Clock = std::chrono::steady_clock;
constexpr UnixNanos kT0 = 1'763'000'000'000'000'000;
constexpr UnixNanos kMs = 1'000'000;

// Ids as the trace builder makes them: random hex (deterministic per N, so runs compare). Ordered
// ids would make every trace-id index an append, which real traffic never gives the store.
std::string hex_id(std::uint64_t n, int width) {
  auto mix = [](std::uint64_t x) {  // splitmix64
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
  };
  char buf[40];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(mix(n)),
                static_cast<unsigned long long>(mix(n ^ 0x5bd1e995u)));
  return std::string(buf, static_cast<std::size_t>(width));
}

Span span_of(const std::string& tid, std::uint64_t n, int i, SpanKind kind, const std::string& parent) {
  Span s;
  s.trace_id = tid;
  s.span_id = hex_id(n * 16 + static_cast<std::uint64_t>(i), 16);
  s.parent_span_id = parent;
  s.kind = kind;
  s.start_ns = kT0 + static_cast<UnixNanos>(n) * kMs + i * 10 * kMs;
  s.end_ns = s.start_ns + 300 * kMs;
  s.set("llmtap.span.kind", std::string(to_string(kind)));
  return s;
}

void generation_attrs(Span& g, std::uint64_t n, bool content) {
  g.name = "chat gpt-4o-mini";
  g.set("gen_ai.operation.name", std::string("chat"));
  g.set("gen_ai.provider.name", std::string("openai"));
  g.set("gen_ai.request.model", std::string("gpt-4o-mini"));
  g.set("gen_ai.response.model", std::string("gpt-4o-mini-2024-07-18"));
  g.set("gen_ai.response.id", "chatcmpl-" + hex_id(n, 24));
  g.set("gen_ai.request.stream", n % 2 == 0);
  g.set("gen_ai.usage.input_tokens", static_cast<std::int64_t>(800 + n % 400));
  g.set("gen_ai.usage.output_tokens", static_cast<std::int64_t>(40 + n % 60));
  g.set("gen_ai.usage.cache_read.input_tokens", static_cast<std::int64_t>(n % 3 ? 512 : 0));
  g.set("gen_ai.response.finish_reasons", std::vector<std::string>{"stop"});
  g.set("gen_ai.response.time_to_first_chunk", 0.182);
  g.set("gen_ai.conversation.id", "conv-" + hex_id(n, 12));
  g.set("llm.cost.prompt", 0.00012);
  g.set("llm.cost.completion", 0.00003);
  g.set("llm.cost.total", 0.00015);
  g.set("llmtap.pricing.version", std::string("2026-11"));
  g.set("llmtap.api", std::string("chat.completions"));
  g.set("server.address", std::string("api.openai.com"));
  g.set("http.response.status_code", std::int64_t{200});
  g.set("user.id", "u-" + hex_id(n % 500, 16));
  g.set("gen_ai.agent.name", std::string("Support Agent"));
  if (content) {
    g.set("gen_ai.input.messages", "[{\"role\":\"user\",\"content\":\"" + std::string(900, 'q') + "\"}]");
    g.set("gen_ai.output.messages", "[{\"role\":\"assistant\",\"content\":\"" + std::string(200, 'a') + "\"}]");
  }
}

// Root workflow + one generation: what a gateway records for one chat call.
Trace gateway_trace(std::uint64_t n, bool content) {
  Trace t;
  t.trace_id = hex_id(n, 32);
  Span root = span_of(t.trace_id, n, 0, SpanKind::kWorkflow, "");
  root.name = "invoke_workflow support-bot";
  root.set("gen_ai.operation.name", std::string("invoke_workflow"));
  root.set("gen_ai.workflow.name", std::string("support-bot"));
  root.set("llm.cost.total", 0.00015);
  root.set("llmtap.release", std::string("v1.5.0"));
  Span gen = span_of(t.trace_id, n, 1, SpanKind::kGeneration, root.span_id);
  generation_attrs(gen, n, content);
  t.spans.push_back(std::move(root));
  t.spans.push_back(std::move(gen));
  return t;
}

// Workflow, two agents, four generations, two tools, a handoff.
Trace agent_trace(std::uint64_t n) {
  Trace t = gateway_trace(n, false);
  const std::string root = t.spans[0].span_id;
  t.spans.pop_back();
  for (int i = 1; i < 10; ++i) {
    SpanKind kind = i == 1 || i == 6 ? SpanKind::kAgent : i == 4 || i == 8 ? SpanKind::kTool
                    : i == 5 ? SpanKind::kHandoff : SpanKind::kGeneration;
    Span s = span_of(t.trace_id, n, i, kind, root);
    if (kind == SpanKind::kGeneration) {
      generation_attrs(s, n + static_cast<std::uint64_t>(i), false);
    } else if (kind == SpanKind::kTool) {
      s.name = "execute_tool lookup_order";
      s.set("gen_ai.tool.name", std::string("lookup_order"));
      s.set("gen_ai.tool.call.id", "call_" + hex_id(n, 8));
      s.set("gen_ai.tool.call.arguments", std::string("{\"order\":\"A-1042\"}"));
    } else {
      s.name = i == 5 ? "handoff" : "invoke_agent";
      s.set("gen_ai.agent.name", std::string(i == 6 ? "Billing Agent" : "Triage Agent"));
    }
    t.spans.push_back(std::move(s));
  }
  return t;
}

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }
double cpu_seconds() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }

// CPU seconds of this process's threads named NAME (the store's writer: "llmtap-store"), from
// /proc/self/task/*/stat: the serial part, which bounds the sustained rate given a free core.
double thread_cpu_seconds(const std::string& name) {
  double ticks = 0;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string c;
    std::getline(comm, c);
    if (c != name) continue;
    std::ifstream stat(task.path() / "stat");
    std::string line;
    std::getline(stat, line);
    std::istringstream fields(line.substr(line.rfind(')') + 2));
    std::string f;
    for (int i = 3; i <= 15 && fields >> f; ++i)
      if (i >= 14) ticks += std::stod(f);  // utime, stime
  }
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string one;
  in >> one;
  return one;
}

void run(const char* name, const std::string& dir, std::uint64_t traces, Trace (*make)(std::uint64_t)) {
  const std::string path = dir + "/" + name + ".db";
  std::string error;
  std::uint64_t spans = 0;
  double writer_cpu = 0, prep_cpu = 0;
  const auto t0 = Clock::now();
  const double c0 = cpu_seconds();
  {
    auto store = SqliteStore::open(path, &error);
    if (!store) {
      std::fprintf(stderr, "%s\n", error.c_str());
      std::exit(1);
    }
    for (std::uint64_t n = 0; n < traces; ++n) {
      Trace t = make(n);
      spans += t.spans.size();
      store->on_trace(t);
    }
    store->flush();
    writer_cpu = thread_cpu_seconds("llmtap-store");
    prep_cpu = thread_cpu_seconds("llmtap-st-prep");  // store_prep_thread.h
    if (store->outcome().stored != traces)
      std::fprintf(stderr, "%s: %s\n", name, store->outcome().describe().c_str());
  }  // closed: everything written
  const double s = seconds_since(t0), cpu = cpu_seconds() - c0;
  // Wall-clock rates depend on the neighbours on a shared machine; per CPU second they do not.
  std::printf("store_write %s spans_per_s %.0f traces_per_s %.0f spans_per_cpu_s %.0f spans %llu seconds %.2f "
              "cpu_s %.2f mb %.1f writer_cpu_s %.2f spans_per_writer_cpu_s %.0f prep_cpu_s %.2f load %s\n",
              name, static_cast<double>(spans) / s, static_cast<double>(traces) / s, static_cast<double>(spans) / cpu,
              static_cast<unsigned long long>(spans), s, cpu, static_cast<double>(std::filesystem::file_size(path)) / 1e6, writer_cpu,
              writer_cpu > 0 ? static_cast<double>(spans) / writer_cpu : 0.0, prep_cpu, load_average().c_str());
  std::fflush(stdout);
}

double thread_cpu_now() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// --writer: what the store's SQLite thread does per batch, and nothing else, the same on every run
// and every version: batches of 1,024 traces, their rows encoded beforehand (as the prep thread and
// the callers do), written by StoreWriter on this thread, a checkpoint after each batch outside the
// measured part. With threads, which traces the writer encodes itself and how many go in a batch
// depend on timing; here they do not, so instruction counts compare versions exactly:
//   valgrind --tool=callgrind --toggle-collect='*StoreWriter::write*' export/store_bench --writer 20000
void run_writer(const char* name, const std::string& dir, std::uint64_t traces, Trace (*make)(std::uint64_t)) {
  const std::string path = dir + "/" + name + "-writer.db";
  std::string error;
  SqliteStore::open(path, &error).reset();  // a store of the current schema
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK ||
      !sql::exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-32768; "
                     "PRAGMA wal_autocheckpoint=0;", &error)) {
    std::fprintf(stderr, "%s: %s\n", path.c_str(), error.empty() ? sqlite3_errmsg(db) : error.c_str());
    std::exit(1);
  }
  std::uint64_t spans = 0;
  double writer_cpu = 0;
  {
    StoreWriter writer(db);
    for (std::uint64_t first = 0; first < traces; first += 1024) {
      std::vector<Trace> batch;
      for (std::uint64_t n = first; n < std::min(traces, first + 1024); ++n) batch.push_back(make(n));
      std::vector<EncodedTrace> rows(batch.size());
      for (std::size_t i = 0; i < batch.size(); ++i) writer.prepare(batch[i], rows[i]);
      if (writer.add_wanted_keys().empty())  // a new store's first keys, then every trace encodes
        for (std::size_t i = 0; i < batch.size(); ++i)
          if (!rows[i].ready) writer.prepare(batch[i], rows[i]);
      for (const auto& t : batch) spans += t.spans.size();
      const double c0 = thread_cpu_now();
      if (std::string why = writer.write(batch, &rows); !why.empty()) {
        std::fprintf(stderr, "%s: %s\n", name, why.c_str());
        std::exit(1);
      }
      writer_cpu += thread_cpu_now() - c0;
      sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    }
  }
  sqlite3_close(db);
  std::printf("store_writer %s spans %llu writer_cpu_s %.2f spans_per_writer_cpu_s %.0f mb %.1f load %s\n", name,
              static_cast<unsigned long long>(spans), writer_cpu, writer_cpu > 0 ? static_cast<double>(spans) / writer_cpu : 0.0,
              static_cast<double>(std::filesystem::file_size(path)) / 1e6, load_average().c_str());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t traces = 100000;
  std::string dir;
  bool writer_only = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--keep" && i + 1 < argc) dir = argv[++i];
    else if (a == "--writer") writer_only = true;
    else traces = std::strtoull(argv[i], nullptr, 10);
  }
  spdlog::set_level(spdlog::level::warn);
  const bool temporary = dir.empty();
  if (temporary) {
    char tmpl[] = "/tmp/llmtap-store-bench-XXXXXX";
    dir = ::mkdtemp(tmpl);
  }
  if (writer_only) {
    run_writer("gateway", dir, traces, [](std::uint64_t n) { return gateway_trace(n, false); });
    run_writer("gateway_content", dir, traces, [](std::uint64_t n) { return gateway_trace(n, true); });
    run_writer("agents", dir, traces / 5, agent_trace);
    if (temporary) std::filesystem::remove_all(dir);
    return 0;
  }
  run("gateway", dir, traces, [](std::uint64_t n) { return gateway_trace(n, false); });
  run("gateway_content", dir, traces, [](std::uint64_t n) { return gateway_trace(n, true); });
  run("agents", dir, traces / 5, agent_trace);

  // What a `llmtap traces` pays to open the store, and what a writer's open check costs.
  const std::string big = dir + "/gateway_content.db";
  auto t0 = Clock::now();
  std::string error;
  auto reader = TraceStoreReader::open(big, &error);
  const double open_ms = seconds_since(t0) * 1000;
  auto recent = reader ? reader->recent(20) : std::vector<TraceSummary>{};
  const double list_ms = seconds_since(t0) * 1000;
  reader.reset();
  t0 = Clock::now();
  StoreCheck check = check_store_file(big);
  const double check_ms = seconds_since(t0) * 1000;
  std::printf("store_open reader_open_ms %.1f list20_ms %.1f quick_check_ms %.1f mb %.1f%s\n", open_ms, list_ms,
              check_ms, static_cast<double>(std::filesystem::file_size(big)) / 1e6,
              check.ok() && recent.size() == 20 ? "" : " (check or list failed)");
  if (temporary) std::filesystem::remove_all(dir);
  return 0;
}
