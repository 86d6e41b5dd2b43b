#pragma once
// Sans-IO RFC 6455 decoder for one direction of a WebSocket connection: frames in any chunking
// (down to one byte), whole messages out. Handles masking, fragmentation (continuation frames),
// control frames interleaved within a fragmented message, 7/16/64-bit lengths, and
// permessage-deflate (RFC 7692) inflated with zlib. Capture side only: it reads a copy of the
// bytes, never what is forwarded. Protocol errors are reported (failed(), error()), never thrown;
// after one the direction is undecodable (WebSocket has no resync point) and the rest is ignored.
// Memory is bounded: a message larger than max_message_bytes is skipped and counted.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/model_call.h"

namespace llmtap {

enum class WebSocketOpcode : std::uint8_t {
  kContinuation = 0x0, kText = 0x1, kBinary = 0x2, kClose = 0x8, kPing = 0x9, kPong = 0xA
};

// permessage-deflate as negotiated for one direction (the sender's parameters).
struct WebSocketDeflate {
  bool enabled = false;
  bool no_context_takeover = false;  // the sender resets its compressor after each message
  int max_window_bits = 15;          // the sender's LZ77 window (informational: inflating with 15 reads any)
};

// The parameters of both directions from the 101 response's Sec-WebSocket-Extensions values (the
// server's answer is what was agreed). Unknown extensions and malformed parameters leave deflate off.
struct WebSocketExtensions {
  WebSocketDeflate client_to_server;
  WebSocketDeflate server_to_client;
};
WebSocketExtensions negotiate_websocket_extensions(const Headers& response_headers);

struct WebSocketMessage {
  WebSocketOpcode opcode = WebSocketOpcode::kText;  // kText, kBinary, or a control opcode
  std::string payload;                              // unmasked, inflated
  UnixNanos first_ts = 0;                           // arrival of its first frame's first byte
  UnixNanos last_ts = 0;                            // arrival of its last byte
};

struct WebSocketDecoderStats {
  std::uint64_t messages = 0;           // data messages delivered
  std::uint64_t control_frames = 0;
  std::uint64_t oversized_skipped = 0;  // data messages over max_message_bytes, not delivered
};

class WebSocketFrameDecoder {
 public:
  // `from_client`: client frames must be masked, server frames must not be (RFC 6455 5.1).
  WebSocketFrameDecoder(bool from_client, WebSocketDeflate deflate, std::size_t max_message_bytes = 32u << 20);
  ~WebSocketFrameDecoder();
  WebSocketFrameDecoder(const WebSocketFrameDecoder&) = delete;
  WebSocketFrameDecoder& operator=(const WebSocketFrameDecoder&) = delete;

  // Appends every message (data or control) completed by `bytes` to `out`. `ts` is their arrival.
  void feed(std::string_view bytes, UnixNanos ts, std::vector<WebSocketMessage>& out) noexcept;

  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }
  bool closed() const { return closed_; }  // a Close frame was seen: nothing follows in this direction
  const WebSocketDecoderStats& stats() const { return stats_; }

 private:
  struct Inflater;
  void feed_impl(std::string_view bytes, UnixNanos ts, std::vector<WebSocketMessage>& out);
  bool parse_header();
  void payload(std::string_view bytes);
  void end_frame(UnixNanos ts, std::vector<WebSocketMessage>& out);
  void append_data(std::string_view bytes);
  void fail(std::string why);

  const bool from_client_;
  const WebSocketDeflate deflate_;
  const std::size_t max_message_bytes_;
  std::unique_ptr<Inflater> inflater_;

  // The frame being read.
  std::string header_;  // header bytes so far (2..14)
  bool in_payload_ = false;
  bool fin_ = false;
  WebSocketOpcode opcode_ = WebSocketOpcode::kText;
  bool masked_ = false;
  std::uint8_t mask_[4] = {0, 0, 0, 0};
  std::uint64_t remaining_ = 0;
  std::uint64_t mask_offset_ = 0;
  UnixNanos frame_first_ts_ = 0;

  // The data message being assembled (frames may be interleaved with control frames).
  bool in_message_ = false;
  bool message_compressed_ = false;
  bool message_oversized_ = false;
  WebSocketMessage message_;
  std::string control_payload_;  // <= 125 bytes
  std::string scratch_;          // unmasked bytes of the current read

  bool closed_ = false;
  std::string error_;
  WebSocketDecoderStats stats_;
};

}  // namespace llmtap
