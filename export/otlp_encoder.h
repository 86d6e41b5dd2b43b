#pragma once
// OTLP ExportTraceServiceRequest bodies for OTLP/HTTP: http/json (the proto3 JSON mapping with hex
// ids, as the OTLP spec requires) and http/protobuf (wire format, encoded by hand). Sans-IO.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/span.h"

namespace llmtap::exporting {

// What every request carries besides the spans.
struct OtlpResource {
  std::vector<Attribute> attributes;  // service.name, process.pid, ...
  std::string scope_name = "llmtap";
  std::string scope_version;
};

// OTLP Span.SpanKind: generations are calls to a remote model (CLIENT), the rest INTERNAL.
int otlp_span_kind(SpanKind kind);

class OtlpEncoder {
 public:
  virtual ~OtlpEncoder() = default;
  virtual std::string encode(const OtlpResource& resource, const std::vector<Span>& spans) const = 0;
  virtual std::string_view content_type() const = 0;
  // Suffix of spool files holding this encoding, so a restarted exporter sends the right type.
  virtual std::string_view file_suffix() const = 0;
};

class OtlpJsonEncoder : public OtlpEncoder {
 public:
  std::string encode(const OtlpResource& resource, const std::vector<Span>& spans) const override;
  std::string_view content_type() const override { return "application/json"; }
  std::string_view file_suffix() const override { return ".json"; }
};

class OtlpProtobufEncoder : public OtlpEncoder {
 public:
  std::string encode(const OtlpResource& resource, const std::vector<Span>& spans) const override;
  std::string_view content_type() const override { return "application/x-protobuf"; }
  std::string_view file_suffix() const override { return ".pb"; }
};

// "http/json" or "http/protobuf" (anything else: nullptr).
std::unique_ptr<OtlpEncoder> make_otlp_encoder(std::string_view protocol);

// hex "0a1b..." -> raw bytes; "" when not valid hex.
std::string hex_to_bytes(std::string_view hex);

}  // namespace llmtap::exporting
