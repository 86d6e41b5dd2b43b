#pragma once
// What a WebSocket carries once upgraded, as far as model calls go. ConnectionStitcher hands the
// bytes after a `101 Switching Protocols` to a WebSocketCapture, which decodes each direction
// (websocket_frame_decoder.h) and passes whole messages to the session the upgrade request's route
// chose. Only APIs with a session yield records; any other socket (realtime sessions of other
// providers, unknown paths) is not even decoded. Capture side only: nothing here affects the relay.
#include <cstdint>
#include <memory>
#include <string_view>

#include "collector/tap.h"
#include "common/model_call.h"
#include "common/sinks.h"
#include "parsers/api_parser.h"
#include "parsers/capture_counters.h"
#include "parsers/websocket_frame_decoder.h"

namespace llmtap {

class WebSocketSession {
 public:
  virtual ~WebSocketSession() = default;
  // A whole data message (text or binary) of one direction.
  virtual void on_message(Direction dir, const WebSocketMessage& msg) = 0;
  // The socket ended (or became undecodable): calls still open finish as incomplete.
  virtual void close(UnixNanos ts, bool capture_gap) = 0;
};

// The session for an API shape, nullptr when that API has no WebSocket model calls. `upgrade` is
// the upgrade exchange's record (provider, host, path, headers): each call starts as a copy of it.
std::unique_ptr<WebSocketSession> make_websocket_session(ApiShape shape, const ModelCall& upgrade,
                                                         ModelCallSink& sink, CaptureCounters* counters);

// Implementations (one file each), picked by make_websocket_session.
std::unique_ptr<WebSocketSession> make_responses_websocket_session(const ModelCall& upgrade, ModelCallSink& sink,
                                                                   CaptureCounters* counters);

// Both directions of one upgraded connection: frame decoding, then the session. Never throws.
class WebSocketCapture {
 public:
  WebSocketCapture(std::unique_ptr<WebSocketSession> session, const WebSocketExtensions& ext,
                   std::size_t max_message_bytes, CaptureCounters* counters);
  void data(Direction dir, std::string_view bytes, UnixNanos ts) noexcept;
  // Bytes were lost: the frame boundaries are gone for good, so decoding stops.
  void gap(Direction dir, UnixNanos ts) noexcept;
  void close(UnixNanos ts) noexcept;

 private:
  void stop(UnixNanos ts, bool capture_gap);
  std::unique_ptr<WebSocketSession> session_;
  WebSocketFrameDecoder client_;
  WebSocketFrameDecoder server_;
  CaptureCounters* counters_;
  std::vector<WebSocketMessage> messages_;
  std::uint64_t oversized_seen_ = 0;
  bool stopped_ = false;
};

}  // namespace llmtap
