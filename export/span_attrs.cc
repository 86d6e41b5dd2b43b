#include "export/span_attrs.h"

namespace llmtap::exporting {

std::string str_attr(const Span& s, std::string_view key) {
  const AttrValue* v = s.find(key);
  if (v == nullptr) return {};
  if (const auto* str = std::get_if<std::string>(v)) return *str;
  return {};
}

std::optional<std::int64_t> int_attr(const Span& s, std::string_view key) {
  const AttrValue* v = s.find(key);
  if (v == nullptr) return std::nullopt;
  if (const auto* i = std::get_if<std::int64_t>(v)) return *i;
  if (const auto* d = std::get_if<double>(v)) return static_cast<std::int64_t>(*d);
  return std::nullopt;
}

std::optional<double> double_attr(const Span& s, std::string_view key) {
  const AttrValue* v = s.find(key);
  if (v == nullptr) return std::nullopt;
  if (const auto* d = std::get_if<double>(v)) return *d;
  if (const auto* i = std::get_if<std::int64_t>(v)) return static_cast<double>(*i);
  return std::nullopt;
}

}  // namespace llmtap::exporting
