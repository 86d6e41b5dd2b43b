#pragma once
// The Prometheus scrape endpoint (--metrics-listen): GET /metrics on its own thread, one request
// per connection, every read and write under a timeout, at most kMaxConnections at once. Loopback
// only unless allow_remote (the proxy's --allow-remote).
#include <functional>
#include <memory>
#include <string>

namespace llmtap::metrics {

class MetricsServer {
 public:
  using Render = std::function<std::string()>;  // the exposition text, called per scrape
  static constexpr int kMaxConnections = 16;
  // LISTEN "ADDR:PORT" (port 0 picks one). nullptr and *error on failure.
  static std::unique_ptr<MetricsServer> start(const std::string& listen, bool allow_remote, Render render,
                                              std::string* error);
  virtual ~MetricsServer() = default;  // stops and joins
  virtual std::string address() const = 0;  // bound "ADDR:PORT"
};

}  // namespace llmtap::metrics
