// Parser throughput: a large streamed Chat Completions SSE response and a large non-streamed JSON
// body, through ConnectionStitcher (HTTP framing, SSE, JSON, provider parser) in 16 KiB reads.
// Reports bytes/second (MB/s) per case.
#include <benchmark/benchmark.h>

#include <string>

#include "parsers/connection_stitcher.h"

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

BENCHMARK(BM_ChatSseStream8MiB)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ChatJsonBody8MiB)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
