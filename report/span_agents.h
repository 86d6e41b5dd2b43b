#pragma once
// Which agent each span ran under: export/span_agents.h (shared with the store's aggregates).
#include "export/span_agents.h"

namespace llmtap::report {
using exporting::agent_per_span;
}  // namespace llmtap::report
