#pragma once
// Which agent each span ran under: the gen_ai.agent.name of its nearest agent ancestor (itself, for
// an agent span), "" when none. For readers of closed traces (alerts, metrics).
#include <string>
#include <vector>

#include "common/span.h"

namespace llmtap::exporting {

// One entry per span of TRACE, in span order.
std::vector<std::string> agent_per_span(const Trace& trace);

}  // namespace llmtap::exporting
