#pragma once
// Random W3C trace/span ids as lowercase hex (32 and 16 characters), never all zeros.
#include <string>

namespace llmtap {

std::string new_trace_id();
std::string new_span_id();
std::string to_hex(const unsigned char* data, std::size_t len);

}  // namespace llmtap
