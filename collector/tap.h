#pragma once
// The capture boundary. The proxy (plaintext of intercepted connections) and the preload collector
// (plaintext read out of SSL_read/SSL_write) both report connection byte streams through this
// interface; everything after it (HTTP framing, provider parsing, reconstruction) is shared, so
// both capture paths yield identical spans.
//
// Contract for implementations: called on the forwarding path, so they must never block, never
// throw, and never modify the bytes. A slow consumer drops data and marks the connection with a gap.
#include <cstdint>
#include <string>
#include <string_view>

#include "common/clock.h"

namespace llmtap {

enum class Direction : std::uint8_t { kClientToServer = 0, kServerToClient = 1 };

struct ConnectionInfo {
  std::string host;         // upstream host the client meant (CONNECT target, SNI, Host, or gateway provider)
  std::uint16_t port = 0;
  bool tls = false;          // whether the client connection was TLS (bytes given are always plaintext)
  std::string source;        // "proxy", "gateway", "preload"
  std::uint64_t client_pid = 0;
};

class Tap {
 public:
  virtual ~Tap() = default;
  virtual void open(std::uint64_t conn_id, const ConnectionInfo& info, UnixNanos ts) noexcept = 0;
  virtual void data(std::uint64_t conn_id, Direction dir, std::string_view bytes, UnixNanos ts) noexcept = 0;
  // Bytes were lost on this connection (e.g. shim backpressure): exchanges spanning the gap are dropped.
  virtual void gap(std::uint64_t conn_id, Direction dir, UnixNanos ts) noexcept = 0;
  virtual void close(std::uint64_t conn_id, UnixNanos ts) noexcept = 0;
};

}  // namespace llmtap
