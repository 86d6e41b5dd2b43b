#include "export/otlp_encoder.h"

#include <gtest/gtest.h>
#include <re2/re2.h>

#include <cmath>

#include "export/otlp_test_decode.h"
#include "export/test_spans.h"

namespace llmtap::exporting {
namespace {

using nlohmann::json;

OtlpResource resource() {
  OtlpResource r;
  r.attributes = {{"service.name", std::string("support-bot")}, {"process.pid", std::int64_t{4242}}};
  r.scope_version = "0.1.0";
  return r;
}

const json* attr(const json& attrs, const std::string& key) {
  for (const auto& kv : attrs)
    if (kv["key"] == key) return &kv["value"];
  return nullptr;
}

// Shared checks over the JSON shape (native for http/json, decoded for http/protobuf).
void check_support_payload(const json& body, const Trace& t) {
  ASSERT_TRUE(body.is_object());
  ASSERT_EQ(body["resourceSpans"].size(), 1u);
  const auto& rs = body["resourceSpans"][0];
  ASSERT_NE(attr(rs["resource"]["attributes"], "service.name"), nullptr);
  EXPECT_EQ((*attr(rs["resource"]["attributes"], "service.name"))["stringValue"], "support-bot");
  EXPECT_EQ((*attr(rs["resource"]["attributes"], "process.pid"))["intValue"], "4242");
  const auto& ss = rs["scopeSpans"][0];
  EXPECT_EQ(ss["scope"]["name"], "llmtap");
  EXPECT_EQ(ss["scope"]["version"], "0.1.0");
  const auto& spans = ss["spans"];
  ASSERT_EQ(spans.size(), t.spans.size());
  const re2::RE2 hex32("[0-9a-f]{32}"), hex16("[0-9a-f]{16}");
  for (std::size_t i = 0; i < spans.size(); ++i) {
    const auto& s = spans[i];
    const Span& want = t.spans[i];
    EXPECT_TRUE(re2::RE2::FullMatch(s["traceId"].get<std::string>(), hex32));
    EXPECT_TRUE(re2::RE2::FullMatch(s["spanId"].get<std::string>(), hex16));
    EXPECT_EQ(s["traceId"], want.trace_id);
    EXPECT_EQ(s["spanId"], want.span_id);
    if (want.parent_span_id.empty()) {
      EXPECT_FALSE(s.contains("parentSpanId"));
    } else {
      EXPECT_EQ(s["parentSpanId"], want.parent_span_id);
    }
    EXPECT_EQ(s["name"], want.name);
    EXPECT_EQ(s["startTimeUnixNano"], std::to_string(want.start_ns));
    EXPECT_EQ(s["endTimeUnixNano"], std::to_string(want.end_ns));
    EXPECT_EQ(s["kind"].get<int>(), want.kind == SpanKind::kGeneration ? 3 : 1);
    EXPECT_EQ(s["attributes"].size(), want.attributes.size());
    if (want.error) {
      EXPECT_EQ(s["status"]["code"].get<int>(), 2);
      EXPECT_EQ(s["status"]["message"], want.status_message);
    } else {
      EXPECT_FALSE(s["status"].contains("code"));
    }
  }
  const auto& gen = spans[2]["attributes"];
  EXPECT_EQ((*attr(gen, "gen_ai.usage.input_tokens"))["intValue"], "1200");
  EXPECT_DOUBLE_EQ((*attr(gen, "llm.cost.total"))["doubleValue"].get<double>(), 0.009);
  EXPECT_EQ((*attr(gen, "gen_ai.request.stream"))["boolValue"], true);
  EXPECT_EQ((*attr(gen, "gen_ai.response.finish_reasons"))["arrayValue"]["values"][0]["stringValue"], "tool_calls");
}

TEST(OtlpJsonEncoder, ProducesOtlpJson) {
  Trace t = testing::support_trace();
  std::string body = OtlpJsonEncoder().encode(resource(), t.spans);
  json parsed = json::parse(body, nullptr, false);
  ASSERT_FALSE(parsed.is_discarded());
  check_support_payload(parsed, t);
}

TEST(OtlpProtobufEncoder, RoundTripsThroughWireDecoder) {
  Trace t = testing::support_trace();
  std::string body = OtlpProtobufEncoder().encode(resource(), t.spans);
  json decoded = testing::decode_otlp_protobuf(body);
  ASSERT_FALSE(decoded.is_null());
  check_support_payload(decoded, t);
  // Ids are raw bytes on the wire: 16 and 8 bytes.
  EXPECT_NE(body.find(hex_to_bytes(t.trace_id)), std::string::npos);
}

// A span event (an alert on the root) in both encodings; spans without events have no "events".
TEST(OtlpEncoder, SpanEventsInBothEncodings) {
  Trace t = testing::support_trace();
  t.spans[0].events.push_back({"llmtap.alert", t.spans[0].end_ns,
                               {{"llmtap.alert.rule", std::string("big")}, {"llmtap.alert.value", 0.5}}});
  for (const json& body : {json::parse(OtlpJsonEncoder().encode(resource(), t.spans)),
                           testing::decode_otlp_protobuf(OtlpProtobufEncoder().encode(resource(), t.spans))}) {
    check_support_payload(body, t);
    const auto& spans = body["resourceSpans"][0]["scopeSpans"][0]["spans"];
    ASSERT_EQ(spans[0]["events"].size(), 1u) << spans[0];
    const auto& e = spans[0]["events"][0];
    EXPECT_EQ(e["name"], "llmtap.alert");
    EXPECT_EQ(e["timeUnixNano"], std::to_string(t.spans[0].end_ns));
    EXPECT_EQ((*attr(e["attributes"], "llmtap.alert.rule"))["stringValue"], "big");
    EXPECT_DOUBLE_EQ((*attr(e["attributes"], "llmtap.alert.value"))["doubleValue"].get<double>(), 0.5);
    EXPECT_FALSE(spans[1].contains("events"));
  }
}

TEST(OtlpProtobufEncoder, NegativeIntsAndTruncation) {
  Trace t = testing::numbered_trace(1);
  t.spans[0].set("neg", std::int64_t{-5});
  std::string body = OtlpProtobufEncoder().encode(resource(), t.spans);
  json decoded = testing::decode_otlp_protobuf(body);
  const auto& attrs = decoded["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["attributes"];
  EXPECT_EQ((*attr(attrs, "neg"))["intValue"], "-5");
  // Every proper prefix is either rejected or decodes to fewer fields; never crashes.
  for (std::size_t n = 0; n < body.size(); ++n) (void)testing::decode_otlp_protobuf(body.substr(0, n));
}

TEST(OtlpJsonEncoder, EscapesArbitraryBytes) {
  Trace t = testing::numbered_trace(1);
  std::string tricky = std::string("quote\" backslash\\ nl\n tab\t nul") + '\0' + "\x01 é → 😀";
  t.spans[0].set("tricky", tricky);
  t.spans[0].set("bad_utf8", std::string("a\xff\xc3(b\xed\xa0\x80"));
  t.spans[0].set("nan", std::nan(""));
  t.spans[0].set("big", 1e300);
  std::string body = OtlpJsonEncoder().encode(resource(), t.spans);
  json parsed = json::parse(body, nullptr, false);
  ASSERT_FALSE(parsed.is_discarded()) << body;
  const auto& attrs = parsed["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["attributes"];
  EXPECT_EQ((*attr(attrs, "tricky"))["stringValue"], tricky);
  EXPECT_EQ((*attr(attrs, "bad_utf8"))["stringValue"], "a\xEF\xBF\xBD\xEF\xBF\xBD(b\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ((*attr(attrs, "nan"))["doubleValue"], "NaN");
  EXPECT_DOUBLE_EQ((*attr(attrs, "big"))["doubleValue"].get<double>(), 1e300);
}

TEST(OtlpEncoder, ByProtocolName) {
  EXPECT_EQ(make_otlp_encoder("http/json")->content_type(), "application/json");
  EXPECT_EQ(make_otlp_encoder("http/protobuf")->content_type(), "application/x-protobuf");
  EXPECT_EQ(make_otlp_encoder("grpc"), nullptr);
  EXPECT_EQ(hex_to_bytes("0aff"), std::string("\x0a\xff", 2));
  EXPECT_EQ(hex_to_bytes("0g"), "");
}

}  // namespace
}  // namespace llmtap::exporting
