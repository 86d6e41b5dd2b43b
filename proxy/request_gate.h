#pragma once
// An opt-in check of each routed request before it is forwarded (--enforce-budgets): the proxy asks
// the gate, and a gate that answers sends that response instead of forwarding. Called on the
// forwarding path, so an implementation must be a lookup of state computed elsewhere, and must
// answer nothing for traffic it does not govern.
#include <functional>
#include <string>
#include <string_view>

#include "common/model_call.h"

namespace llmtap::proxy {

struct GateRequest {
  std::string_view host;    // the host the client meant (as tapped)
  std::string_view source;  // "gateway" or "proxy" (as tapped)
  std::string_view method;
  std::string_view target;  // as on the wire, without the gateway token
  const std::function<Headers()>& headers;  // built only if the gate asks
};

class RequestGate {
 public:
  virtual ~RequestGate() = default;
  // Complete HTTP/1.1 response bytes to send instead of forwarding, or "" to forward.
  virtual std::string refuse(const GateRequest& request) const = 0;
};

}  // namespace llmtap::proxy
