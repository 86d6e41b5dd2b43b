#include "export/traces_query.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>

#include "export/test_spans.h"

namespace llmtap::exporting {
namespace {

class TracesQuery : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("TZ", "UTC", 1);
    ::tzset();
    std::string error;
    path = dir.path + "/traces.db";
    {
      auto store = SqliteStore::open(path, &error);
      ASSERT_TRUE(store) << error;
      store->on_trace(testing::support_trace());
      store->on_trace(testing::support_trace("0af76519aaaaaaaaaaaaaaaaaaaaaaaa"));
      store->on_trace(testing::numbered_trace(3, 2));
    }
    reader = TraceStoreReader::open(path, &error);
    ASSERT_TRUE(reader) << error;
  }
  testing::TempDir dir;
  std::string path;
  std::unique_ptr<TraceStoreReader> reader;
};

TEST_F(TracesQuery, FindsByFullIdAndUniquePrefix) {
  auto full = find_trace(*reader, "0af7651916cd43dd8448eb211c80319c");
  ASSERT_TRUE(full.trace) << full.error;
  EXPECT_EQ(full.trace->spans.size(), 6u);
  auto prefix = find_trace(*reader, "0AF7651916");  // case-insensitive
  ASSERT_TRUE(prefix.trace) << prefix.error;
  EXPECT_EQ(prefix.trace->trace_id, "0af7651916cd43dd8448eb211c80319c");
}

TEST_F(TracesQuery, ClearErrors) {
  auto ambiguous = find_trace(*reader, "0af765");
  EXPECT_FALSE(ambiguous.trace);
  EXPECT_NE(ambiguous.error.find("ambiguous"), std::string::npos) << ambiguous.error;
  EXPECT_NE(ambiguous.error.find("0af76519aaaaaaaaaaaaaaaaaaaaaaaa"), std::string::npos);
  auto unknown = find_trace(*reader, "ffff");
  EXPECT_NE(unknown.error.find("no trace ffff"), std::string::npos) << unknown.error;
  auto bad = find_trace(*reader, "xyz");
  EXPECT_NE(bad.error.find("not a trace id"), std::string::npos);
}

TEST_F(TracesQuery, ListShowsFullIdsAndSummaries) {
  std::string text = format_trace_list(reader->recent(10));
  // Newest first: numbered trace 3 starts 3 s after the support traces.
  EXPECT_EQ(text,
            "TRACE ID                          TIME                 WORKFLOW              AGENTS         SPANS  DURATION    COST  ERRORS\n"
            "00000000000000000000000000000004  2025-11-13 02:13:23  invoke_workflow run3  -                  2       6ms       -       -\n"
            "0af7651916cd43dd8448eb211c80319c  2025-11-13 02:13:20  Support Agent         Billing Agent      6     1.75s  $0.014       1\n"
            "0af76519aaaaaaaaaaaaaaaaaaaaaaaa  2025-11-13 02:13:20  Support Agent         Billing Agent      6     1.75s  $0.014       1\n");
  std::vector<TraceSummary> hostile = reader->recent(1);
  hostile[0].workflow = "run\x1b]0;title\x07";
  hostile[0].agents = {"Agent\x1b[2J"};
  text = format_trace_list(hostile);
  EXPECT_EQ(text.find('\x1b'), std::string::npos) << text;
  EXPECT_NE(text.find("run\\u001b]0;title\\u0007  Agent\\u001b[2J"), std::string::npos) << text;
  auto j = trace_list_json(reader->recent(1));
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["trace_id"], "00000000000000000000000000000004");
  EXPECT_EQ(j[0]["span_count"], 2);
  EXPECT_TRUE(j[0]["cost_usd"].is_null());
}

}  // namespace
}  // namespace llmtap::exporting
