#pragma once
// What AsyncTap's worker drives per connection: the protocol decoder of one connection's byte
// streams. Implementations: the HTTP/1.1 ConnectionStitcher and H2Stitcher, behind a sniffer that
// picks one from the client's first bytes (http_decoder_factory.h); tests inject fakes.
#include <cstdint>
#include <memory>
#include <string_view>

#include "collector/tap.h"

namespace llmtap {

class ConnectionDecoder {
 public:
  virtual ~ConnectionDecoder() = default;
  virtual void data(Direction dir, std::string_view bytes, UnixNanos ts) noexcept = 0;
  virtual void gap(Direction dir, UnixNanos ts) noexcept = 0;
  virtual void close(UnixNanos ts) noexcept = 0;
};

class ConnectionDecoderFactory {
 public:
  virtual ~ConnectionDecoderFactory() = default;
  // Never returns nullptr.
  virtual std::unique_ptr<ConnectionDecoder> create(std::uint64_t conn_id, const ConnectionInfo& info) = 0;
};

}  // namespace llmtap
