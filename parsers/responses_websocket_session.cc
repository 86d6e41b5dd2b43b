// The OpenAI Responses API over WebSocket (GET /v1/responses upgraded; Codex, the Agents SDK).
// Each client `response.create` message carries a POST /v1/responses body; the server answers with
// the same events as the SSE stream. So each call is read by the very ApiParser of the HTTP path:
// the message as its request body, each server event as a stream event. Only the transport rules
// live here: which message starts a call, which event ends it, and timings from frame arrival.
//
// Calls on one socket run one at a time: events belong to the oldest call not yet ended. A create
// sent before the previous call ended waits its turn (the server queues it the same way); when the
// server starts a new response while the oldest call never ended, that call was abandoned and ends
// as incomplete. A `generate: false` create (prewarm) is no model call: it is recorded state-only,
// so the trace layer knows the conversation the next call continues by previous_response_id.
#include <deque>

#include "parsers/json_fields.h"
#include "parsers/websocket_session.h"

namespace llmtap {
namespace {

using json_fields::json;

constexpr std::size_t kMaxQueuedCalls = 64;

bool is_terminal_event(const std::string& type) {
  return type == "response.completed" || type == "response.failed" || type == "response.incomplete" ||
         type == "error";
}

class ResponsesWebSocketSession final : public WebSocketSession {
 public:
  ResponsesWebSocketSession(const ModelCall& upgrade, ModelCallSink& sink, CaptureCounters* counters)
      : sink_(sink), counters_(counters) {
    // What every call on this socket shares: where it went and the upgrade request's headers.
    base_.provider = upgrade.provider;
    base_.kind = upgrade.kind;
    base_.api = upgrade.api;
    base_.operation = upgrade.operation;
    base_.host = upgrade.host;
    base_.method = upgrade.method;
    base_.path = upgrade.path;
    base_.query = upgrade.query;
    base_.connection_id = upgrade.connection_id;
    base_.client_pid = upgrade.client_pid;
    base_.request_headers = upgrade.request_headers;
    base_.traceparent = upgrade.traceparent;
    base_.stream = true;  // always streamed back as events
  }

  void on_message(Direction dir, const WebSocketMessage& msg) override {
    if (msg.opcode != WebSocketOpcode::kText) return;  // the API speaks JSON text only
    json j = json_fields::parse(msg.payload);
    if (!j.is_object()) {
      if (counters_) counters_->websocket_parse_errors.fetch_add(1, std::memory_order_relaxed);
      // As on the SSE path: an event that was not JSON leaves the call it belongs to incomplete.
      if (dir == Direction::kServerToClient && !calls_.empty()) calls_.front().invalid_event = true;
      return;
    }
    const std::string type = json_fields::str(j, "type");
    if (dir == Direction::kClientToServer) {
      if (type == "response.create") start_call(j, msg);
      return;  // other client events carry no call
    }
    if (!calls_.empty() && (type.rfind("response.", 0) == 0 || type == "error")) server_event(type, j, msg);
  }

  void close(UnixNanos ts, bool capture_gap) override {
    while (!calls_.empty()) finish_front(ts, false, capture_gap);
  }

 private:
  struct Call {
    ModelCall call;
    std::unique_ptr<ApiParser> api;
    bool invalid_event = false;
  };

  void start_call(const json& body, const WebSocketMessage& msg) {
    if (calls_.size() >= kMaxQueuedCalls) finish_front(msg.first_ts, false, false);
    Call c{base_, make_api_parser(ApiShape::kResponses), false};
    c.call.timings.request_start = msg.first_ts;
    c.call.timings.request_end = msg.last_ts;
    c.api->parse_request(body, c.call);  // the same top-level fields as a POST /v1/responses body
    c.call.stream = true;
    const json& generate = json_fields::at(body, "generate");
    c.call.state_only = generate.is_boolean() && !generate.get<bool>();
    calls_.push_back(std::move(c));
  }

  void server_event(const std::string& type, const json& j, const WebSocketMessage& msg) {
    if (type == "response.created" && calls_.size() > 1) {
      // A new response while the oldest call already had one: that call was abandoned.
      const std::string id = json_fields::str(json_fields::at(j, "response"), "id");
      const std::string& front_id = calls_.front().call.response_id;
      if (!front_id.empty() && !id.empty() && id != front_id) finish_front(msg.first_ts, false, false);
    }
    Call& c = calls_.front();
    Timings& t = c.call.timings;
    if (t.response_first_byte == 0) t.response_first_byte = msg.first_ts;
    if (c.api->on_stream_event(type, j, msg.last_ts, c.call) && t.first_content_chunk == 0) t.first_content_chunk = msg.first_ts;
    t.content_end = msg.last_ts;
    t.response_end = msg.last_ts;
    if (is_terminal_event(type)) finish_front(msg.last_ts, true, false);
  }

  void finish_front(UnixNanos ts, bool ended, bool capture_gap) {
    Call c = std::move(calls_.front());
    calls_.pop_front();
    ModelCall& call = c.call;
    const bool responded = call.timings.response_first_byte != 0;
    if (call.timings.response_end == 0) call.timings.response_end = ts;
    const bool terminal = responded && c.api->finish(call, false);
    call.capture_gap = capture_gap;
    if (call.status != CallStatus::kError) {
      const bool ok = ended && terminal && !capture_gap && !c.invalid_event;
      call.status = ok ? CallStatus::kComplete : CallStatus::kIncomplete;
    }
    // A prewarm that never got its response id leaves nothing a later call could name.
    if (call.state_only && call.response_id.empty()) return;
    sink_.on_model_call(std::move(call));
  }

  ModelCall base_;
  ModelCallSink& sink_;
  CaptureCounters* counters_;
  std::deque<Call> calls_;  // created, not yet ended; the front one receives the server's events
};

}  // namespace

std::unique_ptr<WebSocketSession> make_responses_websocket_session(const ModelCall& upgrade, ModelCallSink& sink,
                                                                   CaptureCounters* counters) {
  return std::make_unique<ResponsesWebSocketSession>(upgrade, sink, counters);
}

}  // namespace llmtap
