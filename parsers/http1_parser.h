#pragma once
// Sans-IO HTTP/1.1 message framer for one direction of a connection (RFC 9112): start line and
// headers, then the body de-framed (Content-Length, chunked with trailers, close-delimited), one
// message after another (keep-alive, pipelining). Response framing depends on the request it
// answers (HEAD, CONNECT), so the response side asks its callbacks for that request's method.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/model_call.h"

namespace llmtap {

enum class Http1Kind : std::uint8_t { kRequest, kResponse };

struct Http1Head {
  std::string method;  // requests
  std::string target;  // requests
  int status = 0;      // responses
  std::string reason;  // responses
  int version_minor = 1;
  Headers headers;
  // Framing decided from the head (informational for the caller).
  bool chunked = false;
  std::int64_t content_length = -1;  // -1: none given
  bool keep_alive = true;
};

class Http1Callbacks {
 public:
  virtual ~Http1Callbacks() = default;
  // A head, including interim 1xx responses (no body or end follows those).
  // The first byte of a new message (start line) arrived; its head may still be incomplete.
  virtual void on_message_begin() {}
  virtual void on_head(const Http1Head& head) = 0;
  virtual void on_body(std::string_view bytes) = 0;
  virtual void on_trailers(const Headers& /*trailers*/) {}
  virtual void on_message_end() = 0;
  // Response side: the method of the request this response answers ("" when unknown -> GET).
  virtual std::string request_method() { return {}; }
  // Bytes after a 101 or CONNECT tunnel started (no longer HTTP), including those that arrived in
  // the same read as the head.
  virtual void on_tunnel_data(std::string_view /*bytes*/) {}
};

class Http1Parser {
 public:
  Http1Parser(Http1Kind kind, Http1Callbacks& cb) : kind_(kind), cb_(cb) {}

  // Consumes all of `bytes`. Returns false once the stream is unparseable (failed() stays true).
  bool feed(std::string_view bytes);
  // The peer closed: ends a close-delimited body. Returns true when no message was cut short.
  bool eof();
  // Bytes were lost: drop the current message and skip input until something looks like the start
  // of a new message (a request line or "HTTP/1.x NNN" at a line start).
  void resync();

  bool failed() const { return state_ == State::kFailed; }
  // Inside a message (head started or body pending): a close now would cut it.
  bool in_message() const {
    return (state_ != State::kHead && state_ != State::kResync && state_ != State::kTunnel) || !buf_.empty();
  }
  // After a 101 Switching Protocols or a CONNECT tunnel: bytes are no longer HTTP.
  bool tunneled() const { return state_ == State::kTunnel; }
  // The other direction switched protocols (the response to this request side was 101): what
  // follows on this side is tunnel data too. Only between messages; returns whether it switched.
  bool enter_tunnel();
  const std::string& error() const { return error_; }

  std::size_t max_head_bytes = 256 * 1024;

 private:
  enum class State { kHead, kBodyLength, kChunkSize, kChunkData, kChunkDataEnd, kTrailers,
                     kBodyClose, kTunnel, kResync, kFailed };
  bool parse_head(std::string_view text);
  void begin_body();
  void end_message();
  bool fail(std::string why);
  bool try_resync();

  Http1Kind kind_;
  Http1Callbacks& cb_;
  State state_ = State::kHead;
  std::string buf_;  // head/line bytes not yet complete
  Http1Head head_;
  std::uint64_t remaining_ = 0;
  std::string trailer_text_;
  bool resync_line_start_ = true;
  std::string error_;
};

}  // namespace llmtap
