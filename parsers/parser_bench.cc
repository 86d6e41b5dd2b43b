// Parser throughput: a large streamed Chat Completions SSE response and a large non-streamed JSON
// body, through ConnectionStitcher (HTTP framing, SSE, JSON, provider parser) in 16 KiB reads.
// Reports bytes/second (MB/s) per case. The WebSocket cases decode 8 MiB of frames (1 KiB text
// messages; masked client frames, and permessage-deflate server frames) in 16 KiB reads.
// Request bodies: 8 MiB generated coding-agent histories (Chat Completions, Responses, Anthropic) read into a
// ModelCall by the nlohmann reference path and by the simdjson fast path (parsers/fast_request.h);
// after the benchmarks, a table prints MB/s per core for both and their ratio.
#include <benchmark/benchmark.h>

#include <ctime>
#include <cstdio>
#include <string>

#include "parsers/api_parser.h"
#include "parsers/fast_request.h"
#include "parsers/request_body_gen.h"

#include "parsers/connection_stitcher.h"
#include "parsers/websocket_frame_decoder.h"
#include "parsers/websocket_test_support.h"

namespace {

struct CountingSink : llmtap::ModelCallSink {
  std::size_t calls = 0;
  void on_model_call(llmtap::ModelCall) override { ++calls; }
};

const std::string kRequest =
    "{\"model\":\"gpt-4.1\",\"stream\":true,\"stream_options\":{\"include_usage\":true},"
    "\"messages\":[{\"role\":\"user\",\"content\":\"Write a long story.\"}]}";

std::string http(const std::string& head, const std::string& body) {
  return head + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

std::string sse_body(std::size_t target_bytes) {
  std::string body;
  for (int i = 0; body.size() < target_bytes; ++i) {
    body += "data: {\"id\":\"chatcmpl-B\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4.1\","
            "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"token" + std::to_string(i) +
            " \"},\"finish_reason\":null}],\"usage\":null}\n\n";
  }
  body += "data: {\"id\":\"chatcmpl-B\",\"choices\":[],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":99}}\n\n";
  body += "data: [DONE]\n\n";
  return body;
}

std::string json_body(std::size_t target_bytes) {
  std::string text;
  while (text.size() < target_bytes) text += "lorem ipsum dolor sit amet \\\"quoted\\\" \\u00e9 ";
  return "{\"id\":\"chatcmpl-J\",\"object\":\"chat.completion\",\"model\":\"gpt-4.1\",\"choices\":[{\"index\":0,"
         "\"message\":{\"role\":\"assistant\",\"content\":\"" + text + "\"},\"finish_reason\":\"stop\"}],"
         "\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":99}}";
}

void run(benchmark::State& state, const std::string& content_type, const std::string& body) {
  std::string req = http("POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\n", kRequest);
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
  static const std::string body = sse_body(8u << 20);
  run(state, "text/event-stream", body);
}
void BM_ChatJsonBody8MiB(benchmark::State& state) {
  static const std::string body = json_body(8u << 20);
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

// One parse of `body` (copied, with simdjson's padding, outside the timed part); thread CPU seconds.
double time_request_parse(llmtap::ApiShape shape, const std::string& body, llmtap::RequestParsePath path) {
  std::string copy;
  copy.reserve(body.size() + 64);
  copy = body;
  auto api = llmtap::make_api_parser(shape);
  llmtap::ModelCall call;
  // CPU time of this thread: the figure per core, whatever else the shared machine runs.
  auto cpu_now = [] {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
  };
  double t0 = cpu_now();
  llmtap::RequestParsedBy by = llmtap::parse_request_body(copy, *api, call, path);
  double t1 = cpu_now();
  benchmark::DoNotOptimize(call.input.data());
  if (path == llmtap::RequestParsePath::kAuto && by != llmtap::RequestParsedBy::kFast) return -1;
  if (call.input.empty()) return -1;
  return t1 - t0;
}

const std::string& chat_request_8mib() {
  static const std::string body = llmtap::testing::chat_history_body(8u << 20);
  return body;
}
const std::string& responses_request_8mib() {
  static const std::string body = llmtap::testing::responses_history_body(8u << 20);
  return body;
}

const std::string& anthropic_request_8mib() {
  static const std::string body = llmtap::testing::anthropic_history_body(8u << 20);
  return body;
}

void run_request(benchmark::State& state, llmtap::ApiShape shape, const std::string& body,
                 llmtap::RequestParsePath path) {
  for (auto _ : state) {
    double s = time_request_parse(shape, body, path);
    if (s < 0) {
      state.SkipWithError("request not read by the expected path");
      break;
    }
    state.SetIterationTime(s);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
}

void BM_ChatRequest8MiB_Reference(benchmark::State& state) {
  run_request(state, llmtap::ApiShape::kChatCompletions, chat_request_8mib(), llmtap::RequestParsePath::kReference);
}
void BM_ChatRequest8MiB_Fast(benchmark::State& state) {
  run_request(state, llmtap::ApiShape::kChatCompletions, chat_request_8mib(), llmtap::RequestParsePath::kAuto);
}
void BM_ResponsesRequest8MiB_Reference(benchmark::State& state) {
  run_request(state, llmtap::ApiShape::kResponses, responses_request_8mib(), llmtap::RequestParsePath::kReference);
}
void BM_ResponsesRequest8MiB_Fast(benchmark::State& state) {
  run_request(state, llmtap::ApiShape::kResponses, responses_request_8mib(), llmtap::RequestParsePath::kAuto);
}

void BM_AnthropicRequest8MiB_Reference(benchmark::State& state) {
  run_request(state, llmtap::ApiShape::kAnthropicMessages, anthropic_request_8mib(), llmtap::RequestParsePath::kReference);
}
void BM_AnthropicRequest8MiB_Fast(benchmark::State& state) {
  run_request(state, llmtap::ApiShape::kAnthropicMessages, anthropic_request_8mib(), llmtap::RequestParsePath::kAuto);
}

// Best of `reps` single-threaded parses, in MB/s (the machine is shared: the best run is the one
// least disturbed by other load).
double best_mbps(llmtap::ApiShape shape, const std::string& body, llmtap::RequestParsePath path, int reps) {
  double best = 1e9;
  for (int i = 0; i < reps; ++i) {
    double s = time_request_parse(shape, body, path);
    if (s > 0 && s < best) best = s;
  }
  return static_cast<double>(body.size()) / best / 1e6;
}

void print_request_ratios() {
  struct Case {
    const char* name;
    llmtap::ApiShape shape;
    const std::string& body;
  } cases[] = {{"chat_completions", llmtap::ApiShape::kChatCompletions, chat_request_8mib()},
               {"responses", llmtap::ApiShape::kResponses, responses_request_8mib()},
               {"anthropic_messages", llmtap::ApiShape::kAnthropicMessages, anthropic_request_8mib()}};
  std::printf("\nrequest body parse, 8 MiB, MB per CPU-second of one thread (best of 10):\n");
  std::printf("%-18s %14s %14s %8s\n", "api", "nlohmann MB/s", "simdjson MB/s", "ratio");
  for (const auto& c : cases) {
    double ref = best_mbps(c.shape, c.body, llmtap::RequestParsePath::kReference, 10);
    double fast = best_mbps(c.shape, c.body, llmtap::RequestParsePath::kAuto, 10);
    std::printf("%-18s %14.0f %14.0f %7.1fx\n", c.name, ref, fast, fast / ref);
  }
}

BENCHMARK(BM_ChatRequest8MiB_Reference)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ChatRequest8MiB_Fast)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ResponsesRequest8MiB_Reference)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ResponsesRequest8MiB_Fast)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_AnthropicRequest8MiB_Reference)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_AnthropicRequest8MiB_Fast)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_WebSocketMaskedClientFrames8MiB)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_WebSocketDeflatedServerFrames8MiB)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ChatSseStream8MiB)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ChatJsonBody8MiB)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  print_request_ratios();
  return 0;
}
