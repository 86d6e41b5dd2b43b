#pragma once
// Pairs requests with responses on one HTTP/2 connection (plaintext, as captured inside TLS) and
// emits one ModelCall per stream to the sink. Sans-IO, the HTTP/2 sibling of ConnectionStitcher:
// frames are cut here, header blocks are decoded by libnghttp2's HPACK inflater (one per
// direction, so the dynamic tables track the real ones), and each stream drives an ExchangeParser.
// A capture gap loses frame sync and HPACK state for good: exchanges in flight end incomplete
// (marked capture_gap) and the rest of the connection is ignored.
#include <memory>
#include <string_view>

#include "collector/tap.h"
#include "common/sinks.h"
#include "parsers/exchange_parser.h"

namespace llmtap {

class H2Stitcher {
 public:
  H2Stitcher(const ConnectionInfo& info, std::uint64_t conn_id, const ParserOptions& opts,
             ModelCallSink& sink);
  ~H2Stitcher();
  void data(Direction dir, std::string_view bytes, UnixNanos ts) noexcept;
  void gap(Direction dir, UnixNanos ts) noexcept;
  void close(UnixNanos ts) noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace llmtap
