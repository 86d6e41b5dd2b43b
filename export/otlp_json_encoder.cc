#include <nlohmann/json.hpp>

#include "export/otlp_encoder.h"

namespace llmtap::exporting {
namespace {

using nlohmann::json;

json any_value(const AttrValue& v) {
  struct Visitor {
    json operator()(const std::string& s) const { return {{"stringValue", s}}; }
    // proto3 JSON maps int64 to a decimal string.
    json operator()(std::int64_t i) const { return {{"intValue", std::to_string(i)}}; }
    json operator()(double d) const { return {{"doubleValue", d}}; }
    json operator()(bool b) const { return {{"boolValue", b}}; }
    json operator()(const std::vector<std::string>& list) const {
      json values = json::array();
      for (const auto& s : list) values.push_back({{"stringValue", s}});
      return {{"arrayValue", {{"values", values}}}};
    }
  };
  return std::visit(Visitor{}, v);
}

json key_values(const std::vector<Attribute>& attrs) {
  json out = json::array();
  for (const auto& a : attrs) out.push_back({{"key", a.key}, {"value", any_value(a.value)}});
  return out;
}

}  // namespace

int otlp_span_kind(SpanKind kind) { return kind == SpanKind::kGeneration ? 3 : 1; }

std::string OtlpJsonEncoder::encode(const OtlpResource& resource, const std::vector<Span>& spans) const {
  json js = json::array();
  for (const auto& s : spans) {
    json span = {
        {"traceId", s.trace_id},
        {"spanId", s.span_id},
        {"name", s.name},
        {"kind", otlp_span_kind(s.kind)},
        {"startTimeUnixNano", std::to_string(s.start_ns)},
        {"endTimeUnixNano", std::to_string(s.end_ns)},
        {"attributes", key_values(s.attributes)},
    };
    if (!s.parent_span_id.empty()) span["parentSpanId"] = s.parent_span_id;
    if (s.error) {
      span["status"] = {{"code", 2}, {"message", s.status_message}};
    } else {
      span["status"] = json::object();
    }
    js.push_back(std::move(span));
  }
  json scope = {{"name", resource.scope_name}};
  if (!resource.scope_version.empty()) scope["version"] = resource.scope_version;
  json body = {{"resourceSpans",
                json::array({{{"resource", {{"attributes", key_values(resource.attributes)}}},
                              {"scopeSpans", json::array({{{"scope", scope}, {"spans", js}}})}}})}};
  // Replace invalid UTF-8 instead of throwing: captured payloads are arbitrary bytes.
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::unique_ptr<OtlpEncoder> make_otlp_encoder(std::string_view protocol) {
  if (protocol == "http/json") return std::make_unique<OtlpJsonEncoder>();
  if (protocol == "http/protobuf") return std::make_unique<OtlpProtobufEncoder>();
  return nullptr;
}

std::string hex_to_bytes(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (hex.size() % 2) return {};
  std::string out(hex.size() / 2, '\0');
  for (std::size_t i = 0; i < out.size(); ++i) {
    int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return {};
    out[i] = static_cast<char>(hi << 4 | lo);
  }
  return out;
}

}  // namespace llmtap::exporting
