#pragma once
// Pairs requests with responses on one HTTP/1.1 connection byte stream (keep-alive, pipelining,
// HEAD/204/304, 1xx, chunked, close-delimited) and emits one ModelCall per exchange to the sink.
// Sans-IO: both capture paths (proxy tee, preload shim) feed it the plaintext of a connection.
#include <memory>
#include <string_view>

#include "collector/tap.h"
#include "common/sinks.h"
#include "parsers/exchange_parser.h"

namespace llmtap {

class ConnectionStitcher {
 public:
  ConnectionStitcher(const ConnectionInfo& info, std::uint64_t conn_id, const ParserOptions& opts,
                     ModelCallSink& sink);
  ~ConnectionStitcher();
  void data(Direction dir, std::string_view bytes, UnixNanos ts) noexcept;
  void gap(Direction dir, UnixNanos ts) noexcept;   // drop the exchange(s) spanning the gap, resync
  void close(UnixNanos ts) noexcept;                // finish in-flight exchange as incomplete

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace llmtap
