#pragma once
// One JSON shape for a span, shared by the JSONL exporter and the tree's --json output.
#include <nlohmann/json.hpp>

#include "common/span.h"

namespace llmtap::exporting {

nlohmann::json attr_to_json(const AttrValue& v);
// {"trace_id","span_id","parent_span_id","name","kind","start_time_unix_nano","end_time_unix_nano",
//  "duration_ms","status":{"code":"OK"|"ERROR","message"},"attributes":{key: value}}, plus
//  "events":[{"name","time_unix_nano","attributes":{key: value}}] when the span has events
nlohmann::json span_to_json(const Span& s);
// Dump that never throws on invalid UTF-8 in captured content.
std::string dump_json(const nlohmann::json& j, int indent = -1);

}  // namespace llmtap::exporting
