#pragma once
// "k=v,k2=v2" lists with URL-encoded (percent-encoded) parts, as OTEL_RESOURCE_ATTRIBUTES,
// OTEL_EXPORTER_OTLP_HEADERS, LLMTAP_METADATA (in that form) and the W3C baggage header use them.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace llmtap {

// Percent-decoding ("%2C" -> ","); malformed escapes are kept as they are.
std::string url_decode(std::string_view s);
// Entries separated by ',', keys and values trimmed and decoded. Malformed entries are skipped;
// their keys (never values: they may be secrets) go to *bad_keys.
std::vector<std::pair<std::string, std::string>> parse_key_value_list(std::string_view text,
                                                                      std::vector<std::string>* bad_keys = nullptr);

}  // namespace llmtap
