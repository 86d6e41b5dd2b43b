// Every redaction class planted in a prompt, tool arguments and a tool result (capture on), and in a
// provider error that echoes the prompt (capture off), then every output grepped: the SQLite store,
// JSONL, what an OTLP receiver got, and the OTLP spool. None may hold a planted value.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "export/make_exporters.h"
#include "export/otlp_test_receiver.h"
#include "export/test_spans.h"

namespace llmtap::exporting {
namespace {

using testing::OtlpTestReceiver;

struct Planted {
  const char* cls;
  std::string text;    // what the app sent
  std::string needle;  // what must not appear in any output
};

const std::vector<Planted>& planted() {
  static const std::vector<Planted> p = {
      {"aws_access_key_id", "AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE"},
      {"aws_secret_access_key", "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI"},
      {"github_token", "ghp_R4nd0mGitHubT0kenValue1234567890abcd", "R4nd0mGitHubT0ken"},
      {"gitlab_token", "glpat-Xy7GitLabSecretVal9876", "GitLabSecretVal"},
      {"slack_token", "xoxb-2024-SlackBotSecretToken", "SlackBotSecret"},
      {"openai_key", "sk-proj-OpenAiSecretKey0123456789abcdef", "OpenAiSecretKey"},
      {"anthropic_key", "sk-ant-api03-AnthropicSecret0123456789", "AnthropicSecret"},
      {"google_api_key", "AIzaSyGoogleSecretKey0123456789abcdefg", "GoogleSecretKey"},
      {"jwt", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJqd3RTZWNyZXQifQ.c2lnbmF0dXJlU2VjcmV0", "eyJzdWIiOiJqd3RTZWNyZXQifQ"},
      {"private_key", "-----BEGIN RSA PRIVATE KEY-----\nMIIEowPemSecretBody\n-----END RSA PRIVATE KEY-----",
       "PemSecretBody"},
      {"password", "password=HunterTwoSecret", "HunterTwoSecret"},
      {"bearer_token", "send Bearer BearerSecretValue1234567 upstream", "BearerSecretValue"},
      {"high_entropy", "session Zx9Qm2Lr8Tp4Wv6Yb1Nc3Kd5Fg7Hj0Ms2Ra4Eu", "Zx9Qm2Lr8Tp4Wv6Yb1Nc3Kd5"},
      {"email", "jane.secret.doe@example.com", "jane.secret.doe"},
      {"phone", "+1 415-555-0132", "555-0132"},
      {"card_number", "4111 1111 1111 1111", "4111 1111 1111 1111"},
  };
  return p;
}

std::string all_planted(const char* sep) {
  std::string s;
  for (const auto& p : planted()) s += std::string(s.empty() ? "" : sep) + p.text;
  return s;
}

// The support trace with every class in the prompt, the tool call's arguments and its result.
Trace content_trace() {
  Trace t = testing::support_trace("0af7651916cd43dd8448eb211c80319c");
  nlohmann::json prompt = nlohmann::json::array({{{"role", "user"}, {"content", all_planted(" and ")}}});
  t.spans[2].set("gen_ai.input.messages", prompt.dump());
  nlohmann::json args = {{"note", all_planted("; ")}};
  t.spans[5].set("gen_ai.tool.call.arguments", args.dump());
  t.spans[5].set("gen_ai.tool.call.result", all_planted("\n"));
  return t;
}

// A failed call whose provider error echoes the prompt (capture is off for this one).
Trace error_trace() {
  Trace t = testing::support_trace("1af7651916cd43dd8448eb211c80319c");
  t.spans[2].error = true;
  t.spans[2].status_message = "Invalid request: your message '" + all_planted(", ") + "' is too long";
  return t;
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void expect_clean(const std::string& what, const std::function<bool(const std::string&)>& contains) {
  for (const auto& p : planted()) EXPECT_FALSE(contains(p.needle)) << what << " holds " << p.cls;
}

ExportOptions options_for(const std::string& otlp_endpoint, bool capture) {
  ExportOptions o;
  o.capture_content = capture;
  o.env = [otlp_endpoint](std::string_view name) -> std::optional<std::string> {
    if (name == "OTEL_EXPORTER_OTLP_ENDPOINT") return otlp_endpoint;
    if (name == "OTEL_EXPORTER_OTLP_PROTOCOL") return std::string("http/json");
    return std::nullopt;
  };
  return o;
}

TEST(RedactionOutputs, NoPlantedSecretReachesStoreJsonlOtlpOrSpool) {
  OtlpTestReceiver receiver;
  ASSERT_TRUE(receiver.start());
  testing::TempDir dir;
  const std::string data = dir.path + "/data", jsonl = dir.path + "/spans.jsonl", db = dir.path + "/traces.db";
  std::string error;
  for (bool capture : {true, false}) {
    auto setup = make_export_setup({"sqlite=" + db, "jsonl=" + jsonl, "otlp"}, data, &error,
                                   options_for(receiver.base_url(), capture));
    ASSERT_TRUE(setup.sink) << error;
    setup.sink->on_trace(capture ? content_trace() : error_trace());
    setup.sink->flush();
  }
  ASSERT_TRUE(OtlpTestReceiver::wait_until([&] { return receiver.count() >= 2; }));

  const std::string lines = read_file(jsonl);
  ASSERT_NE(lines.find("[REDACTED:card_number]"), std::string::npos);  // content and errors were exported
  for (const auto& p : planted())
    EXPECT_NE(lines.find("[REDACTED:" + std::string(p.cls) + "]"), std::string::npos) << p.cls;
  expect_clean("jsonl", [&](const std::string& n) { return lines.find(n) != std::string::npos; });
  expect_clean("store", [&](const std::string& n) { return testing::any_file_contains(dir.path, n); });
  std::string bodies;
  for (const auto& r : receiver.requests()) bodies += r.body;
  ASSERT_NE(bodies.find("[REDACTED:email]"), std::string::npos);
  expect_clean("otlp", [&](const std::string& n) { return bodies.find(n) != std::string::npos; });

  // The spool: the endpoint is down, so the batches wait on disk.
  receiver.stop();
  for (bool capture : {true, false}) {
    auto setup = make_export_setup({"otlp"}, data, &error, options_for(receiver.base_url(), capture));
    ASSERT_TRUE(setup.sink) << error;
    setup.sink->on_trace(capture ? content_trace() : error_trace());
    setup.sink->flush();
  }
  const std::string spool = data + "/spool/otlp";
  ASSERT_TRUE(std::filesystem::exists(spool));
  ASSERT_GE(testing::file_count(spool), 1u);
  ASSERT_TRUE(testing::any_file_contains(spool, "[REDACTED:phone]"));
  expect_clean("spool", [&](const std::string& n) { return testing::any_file_contains(spool, n); });
}

}  // namespace
}  // namespace llmtap::exporting
