#pragma once
// Direct JSON text output for the hot OTLP/JSON path (no DOM): string escaping that also
// replaces invalid UTF-8 with U+FFFD (captured payloads are arbitrary bytes), and numbers.
#include <string>
#include <string_view>

namespace llmtap::exporting::json_text {

// Appends S as a quoted JSON string.
void append_string(std::string& out, std::string_view s);
// Shortest round-trip form; NaN and infinities as the strings proto3 JSON uses.
void append_double(std::string& out, double d);

}  // namespace llmtap::exporting::json_text
