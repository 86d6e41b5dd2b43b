#pragma once
// Capture-side problems that never affect forwarding but should not go unnoticed: counted by the
// decoders (any thread), read by AsyncTap::stats() and logged by the pipeline at shutdown.
#include <atomic>
#include <cstdint>

namespace llmtap {

struct CaptureCounters {
  std::atomic<std::uint64_t> websocket_sessions{0};            // upgrades decoded as an API session
  std::atomic<std::uint64_t> websocket_protocol_errors{0};     // a direction became undecodable (RFC 6455/7692 error, gap)
  std::atomic<std::uint64_t> websocket_oversized_messages{0};  // messages over the parse cap, skipped
  std::atomic<std::uint64_t> websocket_parse_errors{0};        // text messages of an API session that were not JSON
};

}  // namespace llmtap
