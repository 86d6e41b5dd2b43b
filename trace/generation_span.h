#pragma once
// The generation span of one model call: GenAI attributes, usage, cost and (optionally) content.
#include "common/model_call.h"
#include "pricing/cost.h"
#include "trace/span_tree.h"

namespace llmtap::trace {

// "chat", "generate_content", "embeddings", ...: the call's operation, "chat" when unknown.
std::string generation_operation(const ModelCall& call);

// A generation node for `call`: name, times, status, attributes, and the usage/cost the
// rollup needs. `priced` may be null (no pricer): cost is then absent.
SpanNode generation_node(const ModelCall& call, const PricedCall* priced, bool capture_content);

}  // namespace llmtap::trace
