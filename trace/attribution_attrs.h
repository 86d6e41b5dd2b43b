#pragma once
// Attribution (who and what a call serves) as span attributes, with the OpenTelemetry and
// OpenInference names: user.id, session.id, llmtap.prompt_cache_key, llmtap.metadata.<key>. User
// ids and prompt cache keys (which clients often derive from the user) are hashed unless
// TraceOptions::raw_user_ids.
#include "common/model_call.h"
#include "common/span.h"
#include "trace/open_span.h"
#include "trace/trace_options.h"

namespace llmtap::trace {

// On a generation span: the call's own attribution.
void set_call_attribution(OpenSpan& generation, const Attribution& attribution, const TraceOptions& options);

// On the trace root: the first user.id / session.id any generation carries, the metadata of
// LLMTAP_METADATA then of the calls (first value per key), gen_ai.conversation.id (LLMTAP_GROUP_ID,
// else the session id) and llmtap.release (service.version of OTEL_RESOURCE_ATTRIBUTES).
void set_root_attribution(Span& root, const std::vector<const Span*>& generations, const std::string& group_id,
                          const std::map<std::string, std::string>* metadata, const std::string& release);

}  // namespace llmtap::trace
