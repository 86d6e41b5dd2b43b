// Field numbers from opentelemetry/proto/{collector/trace,trace,common,resource}/v1/*.proto.
#include "export/otlp_encoder.h"
#include "export/protobuf_wire.h"

namespace llmtap::exporting {
namespace {

std::string any_value(const AttrValue& v) {
  pb::Writer w;  // AnyValue: 1 string, 2 bool, 3 int, 4 double, 5 array
  if (auto* s = std::get_if<std::string>(&v)) {
    w.bytes_field(1, *s);
  } else if (auto* b = std::get_if<bool>(&v)) {
    w.bool_field(2, *b);
  } else if (auto* i = std::get_if<std::int64_t>(&v)) {
    w.uint_field(3, static_cast<std::uint64_t>(*i));
  } else if (auto* d = std::get_if<double>(&v)) {
    w.double_field(4, *d);
  } else if (auto* list = std::get_if<std::vector<std::string>>(&v)) {
    pb::Writer array;  // ArrayValue: 1 repeated AnyValue
    for (const auto& item : *list) array.bytes_field(1, any_value(AttrValue(item)));
    w.bytes_field(5, array.data());
  }
  return w.take();
}

void key_values(pb::Writer& w, std::uint32_t field, const std::vector<Attribute>& attrs) {
  for (const auto& a : attrs) {
    pb::Writer kv;  // KeyValue: 1 key, 2 value
    kv.bytes_field(1, a.key);
    kv.bytes_field(2, any_value(a.value));
    w.bytes_field(field, kv.data());
  }
}

std::string encode_span(const Span& s) {
  pb::Writer w;
  w.bytes_field(1, hex_to_bytes(s.trace_id));
  w.bytes_field(2, hex_to_bytes(s.span_id));
  if (!s.parent_span_id.empty()) w.bytes_field(4, hex_to_bytes(s.parent_span_id));
  w.bytes_field(5, s.name);
  w.uint_field(6, static_cast<std::uint64_t>(otlp_span_kind(s.kind)));
  w.fixed64_field(7, static_cast<std::uint64_t>(s.start_ns));
  w.fixed64_field(8, static_cast<std::uint64_t>(s.end_ns));
  key_values(w, 9, s.attributes);
  for (const SpanEvent& e : s.events) {  // Span.Event: 1 time_unix_nano, 2 name, 3 attributes
    pb::Writer event;
    event.fixed64_field(1, static_cast<std::uint64_t>(e.time_ns));
    event.bytes_field(2, e.name);
    key_values(event, 3, e.attributes);
    w.bytes_field(11, event.data());
  }
  for (const auto& l : s.links) {  // Span.links (13): Link 1 trace_id, 2 span_id, 4 attributes
    pb::Writer link;
    link.bytes_field(1, hex_to_bytes(l.trace_id));
    link.bytes_field(2, hex_to_bytes(l.span_id));
    key_values(link, 4, l.attributes);
    w.bytes_field(13, link.data());
  }
  pb::Writer status;  // Status: 2 message, 3 code
  if (s.error) {
    status.bytes_field(2, s.status_message);
    status.uint_field(3, 2);
  }
  w.bytes_field(15, status.data());
  return w.take();
}

}  // namespace

std::string OtlpProtobufEncoder::encode(const OtlpResource& resource, const std::vector<Span>& spans) const {
  pb::Writer scope;  // InstrumentationScope: 1 name, 2 version
  scope.bytes_field(1, resource.scope_name);
  if (!resource.scope_version.empty()) scope.bytes_field(2, resource.scope_version);

  pb::Writer scope_spans;  // ScopeSpans: 1 scope, 2 spans
  scope_spans.bytes_field(1, scope.data());
  for (const auto& s : spans) scope_spans.bytes_field(2, encode_span(s));

  pb::Writer res;  // Resource: 1 attributes
  key_values(res, 1, resource.attributes);

  pb::Writer resource_spans;  // ResourceSpans: 1 resource, 2 scope_spans
  resource_spans.bytes_field(1, res.data());
  resource_spans.bytes_field(2, scope_spans.data());

  pb::Writer request;  // ExportTraceServiceRequest: 1 resource_spans
  request.bytes_field(1, resource_spans.data());
  return request.take();
}

}  // namespace llmtap::exporting
