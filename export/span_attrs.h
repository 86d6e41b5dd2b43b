#pragma once
// Typed reads of span attributes for the query layer: a missing or differently typed attribute
// reads as empty, so traces written by older or other versions never break a report.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/span.h"

namespace llmtap::exporting {

std::string str_attr(const Span& s, std::string_view key);
std::optional<std::int64_t> int_attr(const Span& s, std::string_view key);
std::optional<double> double_attr(const Span& s, std::string_view key);

}  // namespace llmtap::exporting
