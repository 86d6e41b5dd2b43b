// Attribution from ModelCall to spans: user.id hashed (raw only when asked), session.id, metadata,
// gen_ai.conversation.id and llmtap.release on the trace root.
#include <gtest/gtest.h>

#include "common/user_id_hash.h"
#include "trace/trace_builder.h"
#include "trace/trace_test_util.h"

namespace llmtap::trace {
namespace {

using namespace testing;

ModelCall attributed_call(const std::string& user_id, const std::string& session, UnixNanos at) {
  ModelCall c;
  c.provider = "openai";
  c.api = "chat_completions";
  c.operation = "chat";
  c.request_model = "gpt-test";
  c.input = {user("hello " + user_id)};
  c.output = {assistant("hi")};
  c.timings.request_start = at;
  c.timings.response_end = at + 10 * kMs;
  c.attribution.user_id = user_id;
  c.attribution.session_id = session;
  c.attribution.prompt_cache_key = "cache-" + user_id;
  c.attribution.metadata = {{"tenant", "acme"}, {"plan", "pro"}};
  return c;
}

Trace one_trace(const TraceOptions& o, const std::vector<ModelCall>& calls) {
  RecordingSink sink;
  TraceBuilder b(o, nullptr, sink);
  for (const auto& c : calls) b.on_model_call(c);
  b.close_all(0);
  EXPECT_EQ(sink.traces.size(), 1u);
  return sink.traces.empty() ? Trace{} : sink.traces[0];
}

TEST(Attribution, UserIdsAreHashedWithTheSaltByDefault) {
  TraceOptions o;
  o.user_id_salt = "0123456789abcdef";
  Trace t = one_trace(o, {attributed_call("alice@example.com", "conv-1", kT0)});
  const Span* gen = find_span(t, SpanKind::kGeneration);
  ASSERT_NE(gen, nullptr);
  EXPECT_EQ(str_attr(*gen, "user.id"), hash_user_id("0123456789abcdef", "alice@example.com"));
  EXPECT_EQ(str_attr(*gen, "llmtap.prompt_cache_key"), hash_user_id("0123456789abcdef", "cache-alice@example.com"));
  EXPECT_EQ(str_attr(*gen, "session.id"), "conv-1");
  EXPECT_EQ(str_attr(*gen, "llmtap.metadata.tenant"), "acme");
  for (const auto& s : t.spans)
    for (const auto& a : s.attributes)
      if (auto* v = std::get_if<std::string>(&a.value)) {
        EXPECT_EQ(v->find("alice"), std::string::npos) << a.key;
      }

  const Span& root = t.spans[0];
  EXPECT_EQ(str_attr(root, "user.id"), hash_user_id("0123456789abcdef", "alice@example.com"));
  EXPECT_EQ(str_attr(root, "session.id"), "conv-1");
  EXPECT_EQ(str_attr(root, "gen_ai.conversation.id"), "conv-1");  // no LLMTAP_GROUP_ID: the session
  EXPECT_EQ(str_attr(root, "llmtap.metadata.plan"), "pro");
}

TEST(Attribution, RawUserIdsOnlyWhenAsked) {
  TraceOptions o;
  o.raw_user_ids = true;
  Trace t = one_trace(o, {attributed_call("alice", "", kT0)});
  EXPECT_EQ(str_attr(*find_span(t, SpanKind::kGeneration), "user.id"), "alice");
  EXPECT_EQ(str_attr(t.spans[0], "user.id"), "alice");
  EXPECT_EQ(t.spans[0].find("session.id"), nullptr);
}

TEST(Attribution, EnvironmentMetadataGroupAndReleaseOnTheRoot) {
  std::map<std::string, std::string> env = {{"LLMTAP_GROUP_ID", "thread-9"},
                                            {"LLMTAP_METADATA", "tenant=from-env,team=a%2Cb"},
                                            {"OTEL_RESOURCE_ATTRIBUTES", "service.name=x,service.version=1.4.2"}};
  std::vector<std::string> warnings;
  TraceOptions o = TraceOptions::from_env(
      [&](const char* n) -> const char* { auto it = env.find(n); return it == env.end() ? nullptr : it->second.c_str(); },
      &warnings);
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(o.release, "1.4.2");
  Trace t = one_trace(o, {attributed_call("bob", "conv-2", kT0)});
  const Span& root = t.spans[0];
  EXPECT_EQ(str_attr(root, "llmtap.release"), "1.4.2");
  EXPECT_EQ(str_attr(root, "gen_ai.conversation.id"), "thread-9");
  EXPECT_EQ(str_attr(root, "session.id"), "conv-2");
  EXPECT_EQ(str_attr(root, "llmtap.metadata.tenant"), "from-env");  // the environment's value wins
  EXPECT_EQ(str_attr(root, "llmtap.metadata.team"), "a,b");
  EXPECT_EQ(str_attr(root, "llmtap.metadata.plan"), "pro");
}

TEST(Attribution, MetadataKeyValueFormAndErrors) {
  std::map<std::string, std::string> out;
  std::string error;
  EXPECT_TRUE(parse_metadata_json(" a=1, b = two ", out, error));
  EXPECT_EQ(out.at("a"), "1");
  EXPECT_EQ(out.at("b"), "two");
  out.clear();
  EXPECT_FALSE(parse_metadata_json("a=1,novalue", out, error));
  EXPECT_NE(error.find("k=v"), std::string::npos);
  EXPECT_FALSE(parse_metadata_json("{not json", out, error));
}

}  // namespace
}  // namespace llmtap::trace
