#include "export/otlp_config.h"

#include <gtest/gtest.h>

#include <map>

namespace llmtap::exporting {
namespace {

EnvLookup fake_env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

std::string resource_string(const OtlpConfig& c, const std::string& key) {
  for (const auto& a : c.resource.attributes)
    if (a.key == key) return std::holds_alternative<std::string>(a.value) ? std::get<std::string>(a.value) : "?";
  return "";
}

TEST(OtlpConfig, EndpointGetsSignalPathAppended) {
  std::string error;
  auto c = OtlpConfig::from_env(fake_env({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/"}}), &error);
  ASSERT_TRUE(c) << error;
  EXPECT_EQ(c->endpoint, "http://collector:4318/v1/traces");
  EXPECT_TRUE(OtlpConfig::enabled_by(fake_env({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://x"}})));
  EXPECT_FALSE(OtlpConfig::enabled_by(fake_env({})));
}

TEST(OtlpConfig, TracesEndpointUsedAsIs) {
  std::string error;
  auto c = OtlpConfig::from_env(fake_env({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://a:4318"},
                                          {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "https://b/api/public/otel/v1/traces"}}),
                                &error);
  ASSERT_TRUE(c) << error;
  EXPECT_EQ(c->endpoint, "https://b/api/public/otel/v1/traces");
  EXPECT_TRUE(OtlpConfig::enabled_by(fake_env({{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://x"}})));
}

TEST(OtlpConfig, HeadersCompressionProtocolResource) {
  std::string error;
  auto c = OtlpConfig::from_env(
      fake_env({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318"},
                {"OTEL_EXPORTER_OTLP_HEADERS", "Authorization=Basic%20cGs6c2s%3D, x-tenant = acme ,broken"},
                {"OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"},
                {"OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"},
                {"OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=prod,service.name=from-attrs,team=a%2Cb"},
                {"OTEL_SERVICE_NAME", "support-bot"}}),
      &error, "python3", 4242);
  ASSERT_TRUE(c) << error;
  ASSERT_EQ(c->headers.size(), 2u);
  EXPECT_EQ(c->headers[0], (std::pair<std::string, std::string>{"Authorization", "Basic cGs6c2s="}));
  EXPECT_EQ(c->headers[1], (std::pair<std::string, std::string>{"x-tenant", "acme"}));
  EXPECT_TRUE(c->gzip);
  EXPECT_EQ(c->protocol, "http/protobuf");
  EXPECT_EQ(resource_string(*c, "service.name"), "support-bot");
  EXPECT_EQ(resource_string(*c, "deployment.environment"), "prod");
  EXPECT_EQ(resource_string(*c, "team"), "a,b");
  EXPECT_EQ(resource_string(*c, "process.executable.name"), "python3");
}

TEST(OtlpConfig, DefaultsAndErrors) {
  std::string error;
  auto c = OtlpConfig::from_env(fake_env({{"OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"}}), &error);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->endpoint, "http://localhost:4318/v1/traces");
  EXPECT_EQ(c->protocol, "http/json");  // grpc is not offered: warned, json used
  EXPECT_EQ(resource_string(*c, "service.name"), "llmtap");
  EXPECT_FALSE(OtlpConfig::from_env(fake_env({{"OTEL_EXPORTER_OTLP_ENDPOINT", "ftp://x"}}), &error));
  EXPECT_NE(error.find("scheme"), std::string::npos);
  EXPECT_FALSE(OtlpConfig::from_env(fake_env({{"OTEL_EXPORTER_OTLP_CERTIFICATE", "/nonexistent.pem"}}), &error));
  EXPECT_NE(error.find("CERTIFICATE"), std::string::npos);
}

TEST(OtlpConfig, HeadersWithLineBreaksAreRefused) {
  for (std::string value : {"Authorization=Bearer x%0D%0AX-Injected: 1", "Authorization=Bearer x\r\nX-Injected: 1",
                            "Authorization=a%0Ab", "Authorization=a%00b"}) {
    std::string error;
    auto c = OtlpConfig::from_env(
        fake_env({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318"}, {"OTEL_EXPORTER_OTLP_HEADERS", value}}),
        &error);
    EXPECT_FALSE(c) << value;
    EXPECT_NE(error.find("OTEL_EXPORTER_OTLP_HEADERS"), std::string::npos) << error;
    EXPECT_NE(error.find("'Authorization'"), std::string::npos) << error;
    EXPECT_EQ(error.find("Bearer"), std::string::npos) << "the value is a secret: " << error;
  }
  std::string error;
  EXPECT_FALSE(OtlpConfig::from_env(fake_env({{"OTEL_EXPORTER_OTLP_TRACES_HEADERS", "X%0D%0AY=1"}}), &error));
  EXPECT_NE(error.find("invalid header name"), std::string::npos) << error;
  auto ok = OtlpConfig::from_env(fake_env({{"OTEL_EXPORTER_OTLP_HEADERS", "x-a=tab\tinside"}}), &error);
  ASSERT_TRUE(ok) << error;  // HTAB is legal in a field value
}

TEST(OtlpConfig, EndpointWithoutHostIsAnError) {
  for (std::string bad : {"http://", "http:///", "https://:4318", "http://exa mple:4318", "http://h\r\nX: y/"}) {
    std::string error;
    EXPECT_FALSE(OtlpConfig::from_env(fake_env({{"OTEL_EXPORTER_OTLP_ENDPOINT", bad}}), &error)) << bad;
    EXPECT_NE(error.find("OTEL_EXPORTER_OTLP_ENDPOINT"), std::string::npos) << error;
  }
  std::string error;
  EXPECT_FALSE(OtlpConfig::from_env(fake_env({{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://"}}), &error));
  EXPECT_NE(error.find("no host"), std::string::npos) << error;
  EXPECT_FALSE(parse_url("http://a/b c", &error));
  EXPECT_FALSE(parse_url("http://a%2Fb/", &error));
}

TEST(ParseUrl, Forms) {
  std::string error;
  auto u = parse_url("https://user:pw@[::1]:8443/v1/traces?key=x", &error);
  ASSERT_TRUE(u) << error;
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 8443);
  EXPECT_EQ(u->target, "/v1/traces?key=x");
  EXPECT_EQ(u->loggable(), "https://[::1]:8443/v1/traces");  // no userinfo, no query
  auto d = parse_url("http://collector", &error);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->port, 80);
  EXPECT_EQ(d->target, "/");
  EXPECT_FALSE(parse_url("http://h:99999/", &error));
}

}  // namespace
}  // namespace llmtap::exporting
