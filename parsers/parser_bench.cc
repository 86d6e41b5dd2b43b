// Parser throughput: a large streamed Chat Completions SSE response and a large non-streamed JSON
// body, through ConnectionStitcher (HTTP framing, SSE, JSON, provider parser) in 16 KiB reads.
// Reports bytes/second (MB/s) per case. The WebSocket cases decode 8 MiB of frames (1 KiB text
// messages; masked client frames, and permessage-deflate server frames) in 16 KiB reads.
// Parse stage per API (Chat Completions, Responses, Anthropic Messages, Gemini) and shape: an 8 MiB
// request (a generated coding-agent history), an 8 MiB non-streamed response body and an 8 MiB SSE
// stream of small delta events, each read into a ModelCall by the nlohmann reference path and by the
// simdjson fast path (parsers/fast_request.h). Bodies and streams go through ExchangeParser (content
// decoding, SSE framing, JSON, the API's mapping) in 16 KiB pieces. After the benchmarks a table
// prints MB per CPU-second of one thread for both paths and their ratio.
#include <benchmark/benchmark.h>

#include <sys/resource.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <map>
#include <vector>
#include <cstdio>
#include <string>

#include "parsers/api_parser.h"
#include "parsers/fast_request.h"
#include "parsers/exchange_parser.h"
#include "parsers/response_body_gen.h"

#include "parsers/connection_stitcher.h"
#include "parsers/websocket_frame_decoder.h"
#include "parsers/websocket_test_support.h"

namespace {

struct CountingSink : llmtap::ModelCallSink {
  std::size_t calls = 0;
  void on_model_call(llmtap::ModelCall) override { ++calls; }
};

const std::string kSmallRequest =
    "{\"model\":\"gpt-4.1\",\"stream\":true,\"stream_options\":{\"include_usage\":true},"
    "\"messages\":[{\"role\":\"user\",\"content\":\"Write a long story.\"}]}";

std::string http(const std::string& head, const std::string& body) {
  return head + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

void run(benchmark::State& state, const std::string& content_type, const std::string& body) {
  std::string req = http("POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\n", kSmallRequest);
  std::string resp = http("HTTP/1.1 200 OK\r\nContent-Type: " + content_type + "\r\n", body);
  for (auto _ : state) {
    CountingSink sink;
    llmtap::ConnectionStitcher st(llmtap::ConnectionInfo{"api.openai.com", 443, true, "proxy", 0}, 1,
                                  llmtap::ParserOptions{}, sink);
    st.data(llmtap::Direction::kClientToServer, req, 1);
    for (std::size_t i = 0; i < resp.size(); i += 16384) {
      st.data(llmtap::Direction::kServerToClient, std::string_view(resp).substr(i, 16384), 2);
    }
    st.close(3);
    if (sink.calls != 1) state.SkipWithError("no record");
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * resp.size()));
}

void BM_ChatSseStream8MiB(benchmark::State& state) {
  static const std::string body = llmtap::testing::chat_stream_body(8u << 20);
  run(state, "text/event-stream", body);
}
void BM_ChatJsonBody8MiB(benchmark::State& state) {
  static const std::string body = llmtap::testing::chat_json_body(8u << 20);
  run(state, "application/json", body);
}

std::string ws_event(int i) {
  std::string e = "{\"type\":\"response.output_text.delta\",\"output_index\":0,\"content_index\":0,\"delta\":\"token" +
                  std::to_string(i) + "\",\"pad\":\"";
  e.resize(1000, 'p');
  return e + "\"}";
}

// Throughput counts `payload_bytes` (the messages as delivered) per iteration.
void run_ws(benchmark::State& state, const std::string& wire, std::size_t payload_bytes, bool from_client,
            llmtap::WebSocketDeflate deflate) {
  for (auto _ : state) {
    llmtap::WebSocketFrameDecoder d(from_client, deflate);
    std::vector<llmtap::WebSocketMessage> out;
    std::size_t messages = 0;
    for (std::size_t i = 0; i < wire.size(); i += 16384) {
      d.feed(std::string_view(wire).substr(i, 16384), 1, out);
      messages += out.size();
      out.clear();
    }
    if (d.failed() || messages == 0) state.SkipWithError("decode failed");
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * payload_bytes));
}

void BM_WebSocketMaskedClientFrames8MiB(benchmark::State& state) {
  static const std::string wire = [] {
    std::string w;
    for (int i = 0; w.size() < (8u << 20); ++i) w += llmtap::testing::ws_message(ws_event(i), 0x1, true);
    return w;
  }();
  run_ws(state, wire, wire.size(), true, {});
}
// 8 MiB once inflated.
void BM_WebSocketDeflatedServerFrames8MiB(benchmark::State& state) {
  static std::size_t payload = 0;
  static const std::string wire = [] {
    llmtap::testing::WsDeflater z(true);
    std::string w;
    for (int i = 0; payload < (8u << 20); ++i) {
      const std::string e = ws_event(i);
      payload += e.size();
      w += llmtap::testing::ws_message(z.compress(e), 0x1, false, 1, true);
    }
    return w;
  }();
  llmtap::WebSocketDeflate on;
  on.enabled = true;
  run_ws(state, wire, payload, false, on);
}

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);  // the figure per core, whatever else the machine runs
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

enum class Shape { kRequest, kBody, kStream };
const char* shape_name(Shape s) { return s == Shape::kRequest ? "request" : s == Shape::kBody ? "body" : "stream"; }

struct Api {
  const char* name;
  llmtap::ApiShape shape;
  const char* host;
  const char* target;
  const char* stream_target;
  std::string (*request)(std::size_t);
  std::string (*body)(std::size_t);
  std::string (*stream)(std::size_t);
};

const Api kApis[] = {
    {"chat_completions", llmtap::ApiShape::kChatCompletions, "api.openai.com", "/v1/chat/completions",
     "/v1/chat/completions", llmtap::testing::chat_history_body, llmtap::testing::chat_json_body, llmtap::testing::chat_stream_body},
    {"responses", llmtap::ApiShape::kResponses, "api.openai.com", "/v1/responses", "/v1/responses",
     llmtap::testing::responses_history_body,
     llmtap::testing::responses_json_body, llmtap::testing::responses_stream_body},
    {"anthropic_messages", llmtap::ApiShape::kAnthropicMessages, "api.anthropic.com", "/v1/messages", "/v1/messages",
     llmtap::testing::anthropic_history_body, llmtap::testing::anthropic_json_body, llmtap::testing::anthropic_stream_body},
    {"gemini", llmtap::ApiShape::kGemini, "generativelanguage.googleapis.com",
     "/v1beta/models/gemini-2.5-flash:generateContent", "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
     llmtap::testing::gemini_history_body,
     llmtap::testing::gemini_json_body, llmtap::testing::gemini_stream_body},
};

// The 8 MiB input of one case, generated once.
const std::string& input(const Api& api, Shape shape) {
  static std::map<std::pair<const Api*, Shape>, std::string> cache;
  std::string& s = cache[{&api, shape}];
  if (s.empty()) s = (shape == Shape::kRequest ? api.request : shape == Shape::kBody ? api.body : api.stream)(8u << 20);
  return s;
}

// One request parse (the body copied, with simdjson's padding, outside the timed part), in thread CPU
// seconds; -1 when the record is empty or the fast path was not taken.
double time_request(const Api& api, const std::string& body, llmtap::JsonParsePath path) {
  std::string copy;
  copy.reserve(body.size() + 64);
  copy = body;
  auto parser = llmtap::make_api_parser(api.shape);
  llmtap::ModelCall call;
  double t0 = thread_cpu_seconds();
  llmtap::RequestParsedBy by = llmtap::parse_request_body(copy, *parser, call, path);
  double t1 = thread_cpu_seconds();
  benchmark::DoNotOptimize(call.input.data());
  if (path == llmtap::JsonParsePath::kAuto && by != llmtap::RequestParsedBy::kFast) return -1;
  if (call.input.empty()) return -1;
  return t1 - t0;
}

// One response through ExchangeParser in 16 KiB pieces, from its head to the record, in thread CPU
// seconds; -1 when the record is not a complete one with output.
double time_response(const Api& api, const std::string& body, bool sse, bool reference) {
  llmtap::ParserOptions opts;
  opts.reference_json_only = reference;
  llmtap::ExchangeParser p(llmtap::ConnectionInfo{api.host, 443, true, "proxy", 0}, 1, opts);
  p.request_head(llmtap::RequestHead{"POST", sse ? api.stream_target : api.target, {{"Host", api.host}, {"Content-Type", "application/json"}}}, 1);
  p.request_body(kSmallRequest, 2);
  p.request_end(3);
  double t0 = thread_cpu_seconds();
  p.response_head(llmtap::ResponseHead{200, {{"Content-Type", sse ? "text/event-stream" : "application/json"}}}, 4);
  for (std::size_t i = 0; i < body.size(); i += 16384) p.response_body(std::string_view(body).substr(i, 16384), 5);
  llmtap::ModelCall call = p.finish(6, true);
  double t1 = thread_cpu_seconds();
  if (call.status != llmtap::CallStatus::kComplete || call.output.empty() || call.output[0].text.empty()) return -1;
  return t1 - t0;
}

double time_case(const Api& api, Shape shape, bool reference) {
  const std::string& in = input(api, shape);
  if (shape == Shape::kRequest)
    return time_request(api, in, reference ? llmtap::JsonParsePath::kReference : llmtap::JsonParsePath::kAuto);
  return time_response(api, in, shape == Shape::kStream, reference);
}

void run_case(benchmark::State& state, const Api* api, Shape shape, bool reference) {
  for (auto _ : state) {
    double s = time_case(*api, shape, reference);
    if (s < 0) {
      state.SkipWithError("no complete record, or not read by the expected path");
      break;
    }
    state.SetIterationTime(s);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * input(*api, shape).size()));
}

// Best of `reps` single-threaded runs, in MB/s (the machine is shared: the best run is the one least
// disturbed by other load); 0 when a run failed.
double best_mbps(const Api& api, Shape shape, bool reference, int reps) {
  double best = 1e9;
  for (int i = 0; i < reps; ++i) {
    double s = time_case(api, shape, reference);
    if (s < 0) return 0;
    best = std::min(best, s);
  }
  return static_cast<double>(input(api, shape).size()) / best / 1e6;
}

// The target for the fast path: 1 GB/s per core on every 8 MiB body and stream.
constexpr double kTargetMbps = 1000;

std::string load_average() {
  std::FILE* f = std::fopen("/proc/loadavg", "r");
  char buf[64] = {};
  if (f != nullptr) {
    if (std::fgets(buf, sizeof buf, f) == nullptr) buf[0] = 0;
    std::fclose(f);
  }
  std::string s(buf);
  for (int fields = 0, i = 0; i < static_cast<int>(s.size()); ++i)  // the three averages
    if (s[i] == ' ' && ++fields == 3) return s.substr(0, i);
  return s;
}

void print_ratios() {
  std::printf("\nparse stage, 8 MiB inputs, MB per CPU-second of one thread (best of 10), target %.0f MB/s per core;"
              " load average before %s\n", kTargetMbps, load_average().c_str());
  std::printf("%-18s %-8s %14s %14s %8s %10s %7s\n", "api", "shape", "nlohmann MB/s", "simdjson MB/s", "ratio", "vs target",
              "target");
  for (const Api& api : kApis) {
    for (Shape shape : {Shape::kRequest, Shape::kBody, Shape::kStream}) {
      double ref = best_mbps(api, shape, true, 10);
      double fast = best_mbps(api, shape, false, 10);
      std::printf("%-18s %-8s %14.0f %14.0f %7.1fx %9.2fx %7s\n", api.name, shape_name(shape), ref, fast,
                  ref > 0 ? fast / ref : 0, fast / kTargetMbps, fast >= kTargetMbps ? "reached" : "missed");
    }
  }
  std::printf("load average after %s\n", load_average().c_str());
}

// Thread CPU time split into user and system (page faults are system time) and minor faults.
struct ThreadUsage {
  double user = 0, sys = 0;
  long faults = 0;
  static ThreadUsage now() {
    rusage r{};
    getrusage(RUSAGE_THREAD, &r);
    auto sec = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6; };
    return {sec(r.ru_utime), sec(r.ru_stime), r.ru_minflt};
  }
};

// --case=<api>/<request|body|stream>[/nlohmann] --reps=N: that case alone, N times, each run's CPU
// time (user, system), minor page faults and MB/s; for profilers (callgrind --toggle-collect=*time_case*).
int run_one_case(std::string_view spec, int reps) {
  const std::size_t a = spec.find('/');
  const std::string_view api_name = spec.substr(0, a);
  std::string_view rest = a == std::string_view::npos ? "" : spec.substr(a + 1);
  const bool reference = rest.size() > 9 && rest.substr(rest.size() - 9) == "/nlohmann";
  if (reference) rest.remove_suffix(9);
  const Api* api = nullptr;
  for (const Api& x : kApis)
    if (api_name == x.name) api = &x;
  if (api == nullptr || (rest != "request" && rest != "body" && rest != "stream")) {
    std::fprintf(stderr, "--case=<api>/<request|body|stream>[/nlohmann], api one of");
    for (const Api& x : kApis) std::fprintf(stderr, " %s", x.name);
    std::fprintf(stderr, "\n");
    return 2;
  }
  const Shape shape = rest == "request" ? Shape::kRequest : rest == "body" ? Shape::kBody : Shape::kStream;
  const std::size_t bytes = input(*api, shape).size();
  for (int i = 0; i < reps; ++i) {
    const ThreadUsage u0 = ThreadUsage::now();
    const double s = time_case(*api, shape, reference);
    const ThreadUsage u1 = ThreadUsage::now();
    if (s < 0) {
      std::fprintf(stderr, "no complete record, or not read by the expected path\n");
      return 1;
    }
    std::printf("%s %s: %.2f ms cpu (user %.2f, sys %.2f, whole run), %ld page faults, %.0f MB/s\n", api->name,
                shape_name(shape), s * 1e3, (u1.user - u0.user) * 1e3, (u1.sys - u0.sys) * 1e3, u1.faults - u0.faults,
                static_cast<double>(bytes) / s / 1e6);
  }
  return 0;
}

void register_cases() {
  for (const Api& api : kApis) {
    for (Shape shape : {Shape::kRequest, Shape::kBody, Shape::kStream}) {
      for (bool reference : {true, false}) {
        std::string name = std::string("BM_Parse/") + api.name + "/" +
                           (shape == Shape::kRequest ? "request" : shape == Shape::kBody ? "body" : "stream") + "/" +
                           (reference ? "nlohmann" : "simdjson");
        benchmark::RegisterBenchmark(name.c_str(), run_case, &api, shape, reference)
            ->UseManualTime()
            ->Unit(benchmark::kMillisecond);
      }
    }
  }
}

BENCHMARK(BM_WebSocketMaskedClientFrames8MiB)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_WebSocketDeflatedServerFrames8MiB)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ChatSseStream8MiB)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ChatJsonBody8MiB)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  // --table_only: just the side-by-side table. A filtered or JSON run (profiling one case, bench/run-all)
  // skips the table, which runs every case and would not be JSON.
  bool table = true, benchmarks = true;
  std::vector<char*> args;
  std::string_view one_case;
  int reps = 1;
  for (int i = 0; i < argc; ++i) {
    std::string_view a(argv[i]);
    if (a.rfind("--case=", 0) == 0) {
      one_case = a.substr(7);
      continue;
    }
    if (a.rfind("--reps=", 0) == 0) {
      reps = std::atoi(argv[i] + 7);
      continue;
    }
    if (a == "--table_only") {
      benchmarks = false;
      continue;
    }
    if (a.rfind("--benchmark_filter", 0) == 0 || a.rfind("--benchmark_format=json", 0) == 0) table = false;
    args.push_back(argv[i]);
  }
  if (!one_case.empty()) return run_one_case(one_case, reps);
  if (benchmarks) {
    int n = static_cast<int>(args.size());
    register_cases();
    benchmark::Initialize(&n, args.data());
    if (benchmark::ReportUnrecognizedArguments(n, args.data())) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
  }
  if (table) print_ratios();
  return 0;
}
