#include "parsers/websocket_session.h"

namespace llmtap {

std::unique_ptr<WebSocketSession> make_websocket_session(ApiShape shape, const ModelCall& upgrade,
                                                         ModelCallSink& sink, CaptureCounters* counters) {
  switch (shape) {
    case ApiShape::kResponses:
      return make_responses_websocket_session(upgrade, sink, counters);
    default:
      return nullptr;  // realtime sessions, unknown paths: relayed, not a model call
  }
}

WebSocketCapture::WebSocketCapture(std::unique_ptr<WebSocketSession> session, const WebSocketExtensions& ext,
                                   std::size_t max_message_bytes, CaptureCounters* counters)
    : session_(std::move(session)),
      client_(true, ext.client_to_server, max_message_bytes),
      server_(false, ext.server_to_client, max_message_bytes),
      counters_(counters) {
  if (counters_) counters_->websocket_sessions.fetch_add(1, std::memory_order_relaxed);
}

void WebSocketCapture::data(Direction dir, std::string_view bytes, UnixNanos ts) noexcept {
  if (stopped_ || !session_) return;
  WebSocketFrameDecoder& d = dir == Direction::kClientToServer ? client_ : server_;
  if (d.failed() || d.closed()) return;
  messages_.clear();
  d.feed(bytes, ts, messages_);
  try {
    for (const auto& m : messages_) {
      if (m.opcode == WebSocketOpcode::kText || m.opcode == WebSocketOpcode::kBinary) session_->on_message(dir, m);
    }
  } catch (...) {
    // A session never throws by design; allocation failure ends the capture, not the relay.
    stop(ts, true);
  }
  messages_.clear();
  if (counters_) {
    const std::uint64_t oversized = client_.stats().oversized_skipped + server_.stats().oversized_skipped;
    if (oversized > oversized_seen_) {
      counters_->websocket_oversized_messages.fetch_add(oversized - oversized_seen_, std::memory_order_relaxed);
      oversized_seen_ = oversized;
    }
    if (d.failed()) counters_->websocket_protocol_errors.fetch_add(1, std::memory_order_relaxed);
  }
}

void WebSocketCapture::gap(Direction, UnixNanos ts) noexcept {
  if (stopped_) return;
  if (counters_) counters_->websocket_protocol_errors.fetch_add(1, std::memory_order_relaxed);
  stop(ts, true);
}

void WebSocketCapture::close(UnixNanos ts) noexcept { stop(ts, false); }

void WebSocketCapture::stop(UnixNanos ts, bool capture_gap) {
  if (stopped_) return;
  stopped_ = true;
  if (!session_) return;
  try {
    session_->close(ts, capture_gap);
  } catch (...) {
  }
}

}  // namespace llmtap
