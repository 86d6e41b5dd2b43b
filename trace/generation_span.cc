#include "trace/generation_span.h"

#include "common/ids.h"
#include <algorithm>

#include "trace/genai_content.h"

namespace llmtap::trace {

std::string generation_operation(const ModelCall& call) {
  return call.operation.empty() ? std::string("chat") : call.operation;
}

namespace {

const char* openinference_kind(const std::string& operation) {
  return operation == "embeddings" ? "EMBEDDING" : "LLM";
}

std::string error_message(const ModelCall& call) {
  if (!call.error_message.empty()) return call.error_message;
  if (!call.error_type.empty()) return call.error_type;
  if (call.http_status != 0) return "HTTP " + std::to_string(call.http_status);
  return "model call failed";
}

}  // namespace

SpanNode generation_node(const ModelCall& call, const PricedCall* priced, bool capture_content) {
  SpanNode node;
  node.counts_as_generation = true;
  OpenSpan& s = node.span;
  s.kind = SpanKind::kGeneration;
  s.span_id = new_span_id();
  const std::string op = generation_operation(call);
  const std::string& model = call.response_model.empty() ? call.request_model : call.response_model;
  s.name = op + " " + (call.request_model.empty() ? model : call.request_model);
  s.start_ns = call.timings.request_start;
  s.end_ns = std::max({call.timings.response_end, call.timings.request_end, call.timings.request_start});
  s.reserve_attributes(512);  // a generation's 20-40 attributes: grow once (shrunk when added to its tree)

  s.set("llmtap.span.kind", std::string("generation"));
  s.set("openinference.span.kind", std::string(openinference_kind(op)));
  s.set("gen_ai.operation.name", op);
  s.set("gen_ai.provider.name", call.provider);
  if (!call.request_model.empty()) s.set("gen_ai.request.model", call.request_model);
  if (!call.response_model.empty()) s.set("gen_ai.response.model", call.response_model);
  if (!call.response_id.empty()) s.set("gen_ai.response.id", call.response_id);
  if (!call.finish_reasons.empty()) s.set("gen_ai.response.finish_reasons", call.finish_reasons);
  s.set("gen_ai.request.stream", call.stream);
  if (call.timings.first_content_chunk > 0 && call.timings.first_content_chunk >= call.timings.request_start)
    s.set("gen_ai.response.time_to_first_chunk",
          static_cast<double>(call.timings.first_content_chunk - call.timings.request_start) / 1e9);
  if (!call.api.empty()) s.set("llmtap.api", call.api);
  if (!call.host.empty()) s.set("server.address", call.host);
  if (call.http_status != 0) s.set("http.response.status_code", static_cast<std::int64_t>(call.http_status));
  if (!call.service_tier.empty()) s.set("gen_ai.request.service_tier", call.service_tier);
  if (call.status == CallStatus::kIncomplete) s.set("llmtap.call.incomplete", true);
  if (call.truncated) s.set("llmtap.call.truncated", true);
  if (call.capture_gap) s.set("llmtap.call.capture_gap", true);

  if (call.usage.present) {
    node.usage().input_tokens = call.usage.input_total();
    node.usage().output_tokens = call.usage.output_total();
    s.set("gen_ai.usage.input_tokens", node.input_tokens());
    s.set("gen_ai.usage.output_tokens", node.output_tokens());
    s.set("gen_ai.usage.cache_read.input_tokens", call.usage.cache_read);
    s.set("gen_ai.usage.cache_creation.input_tokens", call.usage.cache_write_5m + call.usage.cache_write_1h);
    s.set("gen_ai.usage.reasoning.output_tokens", call.usage.reasoning);
  }
  if (priced != nullptr && priced->cost) {
    node.priced = true;
    node.usage().cost = *priced->cost;
    s.set_usd("llm.cost.total", node.cost().total());
    s.set_usd("llm.cost.prompt", node.cost().prompt);
    s.set_usd("llm.cost.completion", node.cost().completion);
    if (!priced->table_version.empty()) s.set("llmtap.pricing.version", priced->table_version);
    if (!priced->entry_id.empty()) s.set("llmtap.pricing.entry", priced->entry_id);
  }

  node.unpriced = call.usage.present && !node.priced;

  if (call.status == CallStatus::kError) {
    s.error = true;
    s.status_message = error_message(call);
    if (!call.error_type.empty()) s.set("error.type", call.error_type);
  }

  if (capture_content) {
    const std::string instructions = call.system_instructions;
    if (!instructions.empty()) s.set("gen_ai.system_instructions", system_instructions_json(instructions));
    s.set("gen_ai.input.messages", input_messages_json(call.input));
    if (!call.output.empty())
      s.set("gen_ai.output.messages", output_messages_json(call.output, call.finish_reasons));
  }
  return node;
}

}  // namespace llmtap::trace
