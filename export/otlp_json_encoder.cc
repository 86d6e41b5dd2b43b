// OTLP/JSON per the OTLP spec's JSON mapping: ids as lowercase hex, 64-bit integers (times,
// intValue) as decimal strings, enums as numbers. Written straight to text: this is the hot path.
#include "export/json_text.h"
#include "export/otlp_encoder.h"

namespace llmtap::exporting {
namespace {

using json_text::append_double;
using json_text::append_string;

void any_value(std::string& out, const AttrValue& v) {
  if (auto* s = std::get_if<std::string>(&v)) {
    out += "{\"stringValue\":";
    append_string(out, *s);
    out += '}';
  } else if (auto* i = std::get_if<std::int64_t>(&v)) {
    out += "{\"intValue\":\"" + std::to_string(*i) + "\"}";
  } else if (auto* d = std::get_if<double>(&v)) {
    out += "{\"doubleValue\":";
    append_double(out, *d);
    out += '}';
  } else if (auto* b = std::get_if<bool>(&v)) {
    out += *b ? "{\"boolValue\":true}" : "{\"boolValue\":false}";
  } else if (auto* list = std::get_if<std::vector<std::string>>(&v)) {
    out += "{\"arrayValue\":{\"values\":[";
    for (std::size_t k = 0; k < list->size(); ++k) {
      if (k) out += ',';
      out += "{\"stringValue\":";
      append_string(out, (*list)[k]);
      out += '}';
    }
    out += "]}}";
  }
}

void key_values(std::string& out, const std::vector<Attribute>& attrs) {
  out += '[';
  for (std::size_t i = 0; i < attrs.size(); ++i) {
    if (i) out += ',';
    out += "{\"key\":";
    append_string(out, attrs[i].key);
    out += ",\"value\":";
    any_value(out, attrs[i].value);
    out += '}';
  }
  out += ']';
}

void span(std::string& out, const Span& s) {
  out += "{\"traceId\":";
  append_string(out, s.trace_id);
  out += ",\"spanId\":";
  append_string(out, s.span_id);
  if (!s.parent_span_id.empty()) {
    out += ",\"parentSpanId\":";
    append_string(out, s.parent_span_id);
  }
  out += ",\"name\":";
  append_string(out, s.name);
  out += ",\"kind\":" + std::to_string(otlp_span_kind(s.kind));
  out += ",\"startTimeUnixNano\":\"" + std::to_string(s.start_ns) + "\"";
  out += ",\"endTimeUnixNano\":\"" + std::to_string(s.end_ns) + "\"";
  out += ",\"attributes\":";
  key_values(out, s.attributes);
  if (!s.events.empty()) {
    out += ",\"events\":[";
    for (std::size_t i = 0; i < s.events.size(); ++i) {
      const SpanEvent& e = s.events[i];
      if (i) out += ',';
      out += "{\"timeUnixNano\":\"" + std::to_string(e.time_ns) + "\",\"name\":";
      append_string(out, e.name);
      out += ",\"attributes\":";
      key_values(out, e.attributes);
      out += '}';
    }
    out += ']';
  }
  if (!s.links.empty()) {
    out += ",\"links\":[";
    for (std::size_t i = 0; i < s.links.size(); ++i) {
      if (i) out += ',';
      out += "{\"traceId\":";
      append_string(out, s.links[i].trace_id);
      out += ",\"spanId\":";
      append_string(out, s.links[i].span_id);
      out += ",\"attributes\":";
      key_values(out, s.links[i].attributes);
      out += '}';
    }
    out += ']';
  }
  if (s.error) {
    out += ",\"status\":{\"code\":2,\"message\":";
    append_string(out, s.status_message);
    out += "}}";
  } else {
    out += ",\"status\":{}}";
  }
}

}  // namespace

int otlp_span_kind(SpanKind kind) { return kind == SpanKind::kGeneration ? 3 : 1; }

std::string OtlpJsonEncoder::encode(const OtlpResource& resource, const std::vector<Span>& spans) const {
  std::string out;
  out.reserve(512 + spans.size() * 600);
  out += "{\"resourceSpans\":[{\"resource\":{\"attributes\":";
  key_values(out, resource.attributes);
  out += "},\"scopeSpans\":[{\"scope\":{\"name\":";
  append_string(out, resource.scope_name);
  if (!resource.scope_version.empty()) {
    out += ",\"version\":";
    append_string(out, resource.scope_version);
  }
  out += "},\"spans\":[";
  for (std::size_t i = 0; i < spans.size(); ++i) {
    if (i) out += ',';
    span(out, spans[i]);
  }
  out += "]}]}]}";
  return out;
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
