#pragma once
// Test-side decoder of OTLP ExportTraceServiceRequest protobuf bytes into the same JSON shape the
// http/json encoder produces, so one set of assertions covers both encodings.
#include <nlohmann/json.hpp>
#include <string_view>

namespace llmtap::exporting::testing {

// nullopt-like: returns a JSON null when the bytes are malformed.
nlohmann::json decode_otlp_protobuf(std::string_view bytes);

}  // namespace llmtap::exporting::testing
