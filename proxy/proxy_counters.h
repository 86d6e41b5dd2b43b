#pragma once
// The proxy's own request counters, kept with relaxed atomics on the forwarding path and read by
// the metrics endpoint.
#include <array>
#include <atomic>
#include <cstdint>

namespace llmtap::proxy {

struct ProxyCounters {
  std::atomic<std::uint64_t> connections{0};          // client connections accepted
  std::atomic<std::uint64_t> requests{0};             // request headers routed and forwarded
  std::array<std::atomic<std::uint64_t>, 6> responses{};   // upstream final responses by class: [1]=1xx .. [5]=5xx, [0] other
  std::array<std::atomic<std::uint64_t>, 6> local_errors{};  // responses the proxy wrote itself, by class
  std::atomic<std::uint64_t> refused{0};              // answered by the request gate (--enforce-budgets)

  static std::size_t status_class(int status) { return status >= 100 && status < 600 ? static_cast<std::size_t>(status / 100) : 0; }
};

struct ProxyCountersSnapshot {
  std::uint64_t connections = 0, requests = 0, refused = 0;
  std::array<std::uint64_t, 6> responses{}, local_errors{};
  int active_sessions = 0;
};

}  // namespace llmtap::proxy
