#pragma once
// The report's projection of a trace: every span (kind, name, parent, times, status) with only the
// attributes report/ reads (the report, the viewer's trace overview and filters), tool arguments
// reduced to a fingerprint (loops compare them, nothing shows them). Written per trace at write
// time (traces.report, schema 3) so that `llmtap report`, the viewer's lists and its dashboards read
// one small row per trace instead of every span with its content. report/'s tests check that a
// report over projections equals the report over whole traces.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/span.h"
#include "export/store_keys.h"

namespace llmtap::exporting {

// True for the attributes the projection keeps.
bool is_report_key(std::string_view key);

// TRACE as the projection has it (span ids and times as they were).
Trace report_projection(const Trace& trace);

// The stored form (span_codec.h's compact trace, keys from KEYS). False if a key id could not be had.
bool encode_report_projection(const Trace& trace, KeyTable& keys, std::string& out);
bool encode_report_projection(const Trace& trace, const std::function<std::int64_t(std::string_view)>& key_id,
                              std::string& out);
// Reads a stored projection into OUT (whose trace_id is kept); span ids become the spans' indexes.
// Unknown key ids reload KEYS once. False if the blob does not decode.
bool decode_report_projection(std::string_view blob, KeyTable& keys, Trace& out);

}  // namespace llmtap::exporting
