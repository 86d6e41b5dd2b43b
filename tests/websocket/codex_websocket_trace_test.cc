// One scripted Codex run (a tool call, then the final answer) written as Codex writes it over
// HTTPS + SSE (one POST per call, full history each time) and over a Responses WebSocket (a
// prewarm, then calls carrying only new items plus previous_response_id). Both wire shapes,
// through the same capture, reconstruction and pricing, must give the same trace.
#include <gtest/gtest.h>

#include <map>

#include "parsers/connection_stitcher.h"
#include "parsers/websocket_test_support.h"
#include "pricing/price_table.h"
#include "trace/trace_builder.h"
#include "trace/trace_test_util.h"

namespace llmtap {
namespace {

using trace::testing::RecordingSink;

const std::string kHead =
    R"("model":"gpt-5-codex","instructions":"You are Codex, based on GPT-5. You are running as a coding agent.",)"
    R"("tools":[{"type":"function","name":"shell","parameters":{"type":"object","properties":{"command":{"type":"array"}}}}],)"
    R"("tool_choice":"auto","parallel_tool_calls":false,"store":false,)";
const std::string kUser = R"({"type":"message","role":"user","content":[{"type":"input_text","text":"How many files are here?"}]})";
const std::string kCall = R"({"type":"function_call","call_id":"call_Qx81","name":"shell","arguments":"{\"command\":[\"ls\"]}"})";
const std::string kCallOutput = R"({"type":"function_call_output","call_id":"call_Qx81","output":"a.txt\nb.txt"})";

// The server events of call N (the same on both transports), one per element.
std::vector<std::string> events(int n) {
  const std::string id = "resp_" + std::to_string(n);
  std::vector<std::string> e = {R"({"type":"response.created","sequence_number":0,"response":{"id":")" + id +
                                R"(","model":"gpt-5-codex","status":"in_progress","output":[]}})"};
  std::string output, usage;
  if (n == 1) {
    e.push_back(R"({"type":"response.output_item.added","output_index":0,"item":{"type":"reasoning","id":"rs_1","summary":[]}})");
    e.push_back(R"({"type":"response.output_item.done","output_index":0,"item":{"type":"reasoning","id":"rs_1","summary":[]}})");
    e.push_back(R"({"type":"response.output_item.added","output_index":1,"item":{"type":"function_call","call_id":"call_Qx81","name":"shell","arguments":""}})");
    e.push_back(R"({"type":"response.function_call_arguments.delta","output_index":1,"delta":"{\"command\":"})");
    e.push_back(R"({"type":"response.function_call_arguments.delta","output_index":1,"delta":"[\"ls\"]}"})");
    e.push_back(R"({"type":"response.output_item.done","output_index":1,"item":)" + kCall + "}");
    output = R"([{"type":"reasoning","id":"rs_1","summary":[]},)" + kCall + "]";
    usage = R"({"input_tokens":4100,"input_tokens_details":{"cached_tokens":3072},"output_tokens":90,"output_tokens_details":{"reasoning_tokens":64},"total_tokens":4190})";
  } else {
    e.push_back(R"({"type":"response.output_item.added","output_index":0,"item":{"type":"message","role":"assistant","content":[]}})");
    e.push_back(R"({"type":"response.output_text.delta","output_index":0,"content_index":0,"delta":"There are "})");
    e.push_back(R"({"type":"response.output_text.delta","output_index":0,"content_index":0,"delta":"2 files."})");
    output = R"([{"type":"message","role":"assistant","content":[{"type":"output_text","text":"There are 2 files."}]}])";
    usage = R"({"input_tokens":4300,"input_tokens_details":{"cached_tokens":4096},"output_tokens":12,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":4312})";
  }
  e.push_back(R"({"type":"response.completed","sequence_number":9,"response":{"id":")" + id +
              R"(","model":"gpt-5-codex","status":"completed","output":)" + output + R"(,"usage":)" + usage + "}}");
  return e;
}

std::string type_of(const std::string& event) {
  auto p = event.find("\"type\":\"") + 8;
  return event.substr(p, event.find('"', p) - p);
}

struct Chunk {
  Direction dir;
  std::string bytes;
  UnixNanos ts;
};

constexpr UnixNanos kMs = 1'000'000;
constexpr UnixNanos kT0 = 1'780'000'000'000'000'000;
// Call n's request goes out at call_start(n); its k-th event arrives 100 ms + k * 10 ms later.
UnixNanos call_start(int n) { return kT0 + n * 2000 * kMs; }
UnixNanos event_time(int n, std::size_t k) { return call_start(n) + (100 + 10 * k) * kMs; }

std::vector<Chunk> https_wire(const std::string& host, const std::string& path) {
  std::vector<Chunk> out;
  const std::vector<std::string> bodies = {
      "{" + kHead + R"("stream":true,"input":[)" + kUser + "]}",
      "{" + kHead + R"("stream":true,"input":[)" + kUser + "," + kCall + "," + kCallOutput + "]}"};
  for (int n = 1; n <= 2; ++n) {
    const std::string& body = bodies[n - 1];
    out.push_back({Direction::kClientToServer,
                   "POST " + path + " HTTP/1.1\r\nHost: " + host +
                       "\r\nAuthorization: Bearer sk-never-recorded\r\nContent-Type: application/json\r\n"
                       "Accept: text/event-stream\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body,
                   call_start(n)});
    const auto ev = events(n);
    std::vector<std::string> sse;
    std::size_t total = 0;
    for (const auto& e : ev) {
      sse.push_back("event: " + type_of(e) + "\ndata: " + e + "\n\n");
      total += sse.back().size();
    }
    std::string head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: " + std::to_string(total) + "\r\n\r\n";
    for (std::size_t k = 0; k < sse.size(); ++k)
      out.push_back({Direction::kServerToClient, (k == 0 ? head : "") + sse[k], event_time(n, k)});
  }
  return out;
}

std::vector<Chunk> websocket_wire(const std::string& host, const std::string& path, bool deflate) {
  using testing::ws_message;
  testing::WsDeflater cz(true), sz(true);
  auto client = [&](const std::string& json, UnixNanos ts) {
    return Chunk{Direction::kClientToServer, deflate ? ws_message(cz.compress(json), 0x1, true, 1, true) : ws_message(json, 0x1, true), ts};
  };
  auto server = [&](const std::string& json, UnixNanos ts) {
    return Chunk{Direction::kServerToClient, deflate ? ws_message(sz.compress(json), 0x1, false, 1, true) : ws_message(json, 0x1, false), ts};
  };
  std::vector<Chunk> out;
  out.push_back({Direction::kClientToServer,
                 "GET " + path + " HTTP/1.1\r\nHost: " + host +
                     "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                     "Sec-WebSocket-Key: x3JJHMbDL1EzLkh9GBhXDw==\r\nAuthorization: Bearer sk-never-recorded\r\n"
                     "OpenAI-Beta: responses_websockets=2026-02-06\r\n" +
                     std::string(deflate ? "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" : "") +
                     "\r\n",
                 kT0});
  out.push_back({Direction::kServerToClient,
                 "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 "Sec-WebSocket-Accept: HSmrc0sMlYUkAGmm5OPpG2HaGWk=\r\n" +
                     std::string(deflate ? "Sec-WebSocket-Extensions: permessage-deflate\r\n" : "") + "\r\n",
                 kT0 + 20 * kMs});
  // The prewarm: the whole request, generate:false; the server answers with an empty response.
  out.push_back(client(R"({"type":"response.create",)" + kHead + R"("generate":false,"input":[)" + kUser + "]}", kT0 + 30 * kMs));
  out.push_back(server(R"({"type":"response.created","response":{"id":"resp_0","model":"gpt-5-codex","status":"in_progress"}})", kT0 + 60 * kMs));
  out.push_back(server(R"({"type":"response.completed","response":{"id":"resp_0","model":"gpt-5-codex","status":"completed","output":[],"usage":{"input_tokens":0,"output_tokens":0}}})", kT0 + 61 * kMs));
  // Then each call carries only what is new since the response it continues.
  const std::vector<std::string> creates = {
      R"({"type":"response.create",)" + kHead + R"("previous_response_id":"resp_0","input":[]})",
      R"({"type":"response.create",)" + kHead + R"("previous_response_id":"resp_1","input":[)" + kCallOutput + "]}"};
  for (int n = 1; n <= 2; ++n) {
    out.push_back(client(creates[n - 1], call_start(n)));
    const auto ev = events(n);
    for (std::size_t k = 0; k < ev.size(); ++k) out.push_back(server(ev[k], event_time(n, k)));
  }
  return out;
}

std::vector<Trace> run(const std::vector<Chunk>& wire, const std::string& host, const PriceTable& prices) {
  TraceOptions topts;
  topts.capture_content = true;
  RecordingSink sink;
  TraceBuilder builder(topts, &prices, sink);
  ParserOptions popts;
  ConnectionStitcher st(ConnectionInfo{host, 443, true, "proxy", 0}, 11, popts, builder);
  for (const auto& c : wire) st.data(c.dir, c.bytes, c.ts);
  st.close(call_start(3));
  builder.close_all(call_start(3));
  return sink.traces;
}

// Attributes that must differ between the transports, and why.
bool transport_specific(const std::string& key) {
  return key == "gen_ai.input.messages"           // the socket sends only new items (the rest is chained)
         || key == "http.response.status_code";  // one HTTP status per POST; none per message on a socket
}

std::string render(const AttrValue& v) {
  if (auto* s = std::get_if<std::string>(&v)) return *s;
  if (auto* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
  if (auto* d = std::get_if<double>(&v)) return std::to_string(*d);
  if (auto* b = std::get_if<bool>(&v)) return *b ? "true" : "false";
  std::string out;
  for (const auto& s : std::get<std::vector<std::string>>(v)) out += s + ";";
  return out;
}

void expect_same_trace(const Trace& https, const Trace& ws) {
  ASSERT_EQ(https.spans.size(), ws.spans.size());
  EXPECT_EQ(trace::testing::shape(https), trace::testing::shape(ws));
  std::map<std::string, std::size_t> https_index, ws_index;
  for (std::size_t i = 0; i < https.spans.size(); ++i) https_index[https.spans[i].span_id] = i;
  for (std::size_t i = 0; i < ws.spans.size(); ++i) ws_index[ws.spans[i].span_id] = i;
  for (std::size_t i = 0; i < https.spans.size(); ++i) {
    const Span& a = https.spans[i];
    const Span& b = ws.spans[i];
    SCOPED_TRACE(a.name);
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.kind, b.kind);
    EXPECT_EQ(a.start_ns, b.start_ns);
    EXPECT_EQ(a.end_ns, b.end_ns);
    EXPECT_EQ(a.error, b.error);
    EXPECT_EQ(a.parent_span_id.empty(), b.parent_span_id.empty());
    if (!a.parent_span_id.empty()) {
      EXPECT_EQ(https_index[a.parent_span_id], ws_index[b.parent_span_id]);
    }
    std::map<std::string, std::string> aa, bb;
    for (const auto& at : a.attributes)
      if (!transport_specific(at.key)) aa[at.key] = render(at.value);
    for (const auto& at : b.attributes)
      if (!transport_specific(at.key)) bb[at.key] = render(at.value);
    EXPECT_EQ(aa, bb);
  }
}

class CodexOverWebSocket : public ::testing::TestWithParam<std::pair<std::string, std::string>> {};

TEST_P(CodexOverWebSocket, SameTraceAsOverHttps) {
  const auto& [host, path] = GetParam();
  const PriceTable prices = PriceTable::load_default();
  const auto https = run(https_wire(host, path), host, prices);
  ASSERT_EQ(https.size(), 1u);
  // The run itself, checked once on the HTTPS side: two generations, one tool span, priced.
  const auto gens = trace::testing::spans_of(https[0], SpanKind::kGeneration);
  ASSERT_EQ(gens.size(), 2u);
  EXPECT_EQ(*trace::testing::attr<std::int64_t>(*gens[0], "gen_ai.usage.input_tokens"), 4100);
  EXPECT_EQ(*trace::testing::attr<std::int64_t>(*gens[0], "gen_ai.usage.cache_read.input_tokens"), 3072);
  EXPECT_EQ(*trace::testing::attr<std::int64_t>(*gens[0], "gen_ai.usage.reasoning.output_tokens"), 64);
  EXPECT_EQ(trace::testing::str_attr(*gens[0], "gen_ai.provider.name"), "openai");
  EXPECT_NE(trace::testing::attr<double>(*gens[0], "llm.cost.total"), nullptr);
  const auto tools = trace::testing::spans_of(https[0], SpanKind::kTool);
  ASSERT_EQ(tools.size(), 1u);
  EXPECT_EQ(trace::testing::str_attr(*tools[0], "gen_ai.tool.call.id"), "call_Qx81");

  for (bool deflate : {false, true}) {
    SCOPED_TRACE(deflate ? "permessage-deflate" : "uncompressed");
    const auto ws = run(websocket_wire(host, path, deflate), host, prices);
    ASSERT_EQ(ws.size(), 1u);  // one trace per run; the prewarm adds no span
    expect_same_trace(https[0], ws[0]);
    const auto ws_gens = trace::testing::spans_of(ws[0], SpanKind::kGeneration);
    ASSERT_EQ(ws_gens.size(), 2u);
    EXPECT_EQ(trace::testing::attr<std::int64_t>(*ws_gens[0], "http.response.status_code"), nullptr);
    for (const auto& s : ws[0].spans)
      for (const auto& a : s.attributes) EXPECT_EQ(render(a.value).find("sk-never-recorded"), std::string::npos) << a.key;
  }
}

INSTANTIATE_TEST_SUITE_P(Hosts, CodexOverWebSocket,
                         ::testing::Values(std::make_pair(std::string("api.openai.com"), std::string("/v1/responses")),
                                           std::make_pair(std::string("chatgpt.com"),
                                                          std::string("/backend-api/codex/responses"))));

}  // namespace
}  // namespace llmtap
