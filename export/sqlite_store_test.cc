#include "export/sqlite_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "export/redactor.h"
#include "export/test_spans.h"

namespace llmtap::exporting {
namespace {

namespace fs = std::filesystem;

using testing::TempDir;

TEST(SqliteStore, StoresAndQueriesTraces) {
  TempDir dir;
  std::string path = dir.path + "/traces.db";
  std::string error;
  {
    auto store = SqliteStore::open(path, &error);
    ASSERT_TRUE(store) << error;
    store->on_trace(testing::support_trace());
    for (int i = 0; i < 5; ++i) store->on_trace(testing::numbered_trace(i, 3));
    store->flush();
  }
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  auto reader = TraceStoreReader::open(path, &error);
  ASSERT_TRUE(reader) << error;
  auto recent = reader->recent(3);
  ASSERT_EQ(recent.size(), 3u);
  EXPECT_EQ(recent[0].workflow, "invoke_workflow run4");  // newest first
  EXPECT_EQ(recent[0].span_count, 3);
  EXPECT_FALSE(recent[0].cost_usd.has_value());

  auto all = reader->recent(100);
  ASSERT_EQ(all.size(), 6u);
  const auto& support = all.back();  // earliest start
  EXPECT_EQ(support.trace_id, "0af7651916cd43dd8448eb211c80319c");
  EXPECT_EQ(support.workflow, "Support Agent");
  EXPECT_EQ(support.agents, std::vector<std::string>{"Billing Agent"});
  EXPECT_EQ(support.span_count, 6);
  EXPECT_EQ(support.error_count, 1);
  ASSERT_TRUE(support.cost_usd.has_value());
  EXPECT_DOUBLE_EQ(*support.cost_usd, 0.0142);  // the root's rolled-up cost
  EXPECT_EQ(support.end_ns - support.start_ns, 1750 * testing::kMs);

  auto trace = reader->get(support.trace_id);
  ASSERT_TRUE(trace.has_value());
  Trace want = testing::support_trace();
  ASSERT_EQ(trace->spans.size(), want.spans.size());
  for (std::size_t i = 0; i < want.spans.size(); ++i) {
    const auto &a = trace->spans[i], &b = want.spans[i];
    EXPECT_EQ(a.span_id, b.span_id);
    EXPECT_EQ(a.parent_span_id, b.parent_span_id);
    EXPECT_EQ(a.kind, b.kind);
    EXPECT_EQ(a.start_ns, b.start_ns);
    EXPECT_EQ(a.error, b.error);
    EXPECT_EQ(a.status_message, b.status_message);
    ASSERT_EQ(a.attributes.size(), b.attributes.size());
    for (std::size_t k = 0; k < a.attributes.size(); ++k) {
      EXPECT_EQ(a.attributes[k].key, b.attributes[k].key);
      EXPECT_EQ(a.attributes[k].value, b.attributes[k].value) << a.attributes[k].key;
    }
  }
  EXPECT_FALSE(reader->get("ffffffffffffffffffffffffffffffff").has_value());
  EXPECT_EQ(reader->ids_with_prefix("0af765"), std::vector<std::string>{support.trace_id});
  // Nothing priced: the cost is absent, not 0.
  EXPECT_FALSE(all[0].cost_usd.has_value());
  EXPECT_EQ(reader->ids_with_prefix("0000").size(), 2u);  // ambiguous: numbered ids share zeros
}

TEST(SqliteStore, BurstLargerThanTheQueueWaitsInsteadOfDropping) {
  TempDir dir;
  std::string path = dir.path + "/traces.db";
  std::string error;
  constexpr int kTraces = 400;
  {
    auto store = SqliteStore::open(path, &error, /*max_queued=*/8);
    ASSERT_TRUE(store) << error;
    for (int i = 0; i < kTraces; ++i) store->on_trace(testing::numbered_trace(i, 2));
    store->flush();
  }
  auto reader = TraceStoreReader::open(path, &error);
  ASSERT_TRUE(reader) << error;
  EXPECT_EQ(reader->recent(kTraces + 10).size(), static_cast<std::size_t>(kTraces));
}

TEST(SqliteStore, TraceDeliveredTwiceIsNotDuplicated) {
  TempDir dir;
  std::string path = dir.path + "/traces.db", error;
  {
    auto store = SqliteStore::open(path, &error);
    ASSERT_TRUE(store) << error;
    Trace first = testing::numbered_trace(7, 2);
    first.spans[1].set("llm.cost.total", 0.25);
    store->on_trace(first);
    Trace later = testing::numbered_trace(7, 3);  // same trace with one more span
    later.spans[1].set("llm.cost.total", 0.25);
    later.spans[2].set("llm.cost.total", 0.5);
    store->on_trace(later);
  }
  auto reader = TraceStoreReader::open(path, &error);
  ASSERT_TRUE(reader);
  auto all = reader->recent(10);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].span_count, 3);
  ASSERT_TRUE(all[0].cost_usd.has_value());
  EXPECT_DOUBLE_EQ(*all[0].cost_usd, 0.75);  // generations summed when the root has no cost
  EXPECT_EQ(reader->get(all[0].trace_id)->spans.size(), 3u);
}

TEST(SqliteStore, ContainsNoApiKey) {
  const std::string key = "sk-ant-api03-StoreSecret0123456789abcdefXYZ";
  TempDir dir;
  std::string path = dir.path + "/traces.db", error;
  {
    auto store = SqliteStore::open(path, &error);
    ASSERT_TRUE(store) << error;
    RedactingSink sink(std::move(store), /*capture_content=*/true);
    sink.on_trace(testing::support_trace("0af7651916cd43dd8448eb211c80319c", key));
    sink.flush();
    // While open (WAL file present) and after close.
    EXPECT_FALSE(testing::any_file_contains(dir.path, key));
    EXPECT_TRUE(testing::any_file_contains(dir.path, "search_knowledge_base"));  // the grep can find things
  }
  EXPECT_FALSE(testing::any_file_contains(dir.path, key));
  auto reader = TraceStoreReader::open(path, &error);
  ASSERT_TRUE(reader);
  auto t = reader->get("0af7651916cd43dd8448eb211c80319c");
  ASSERT_TRUE(t);
  EXPECT_EQ(std::get<std::string>(*t->spans[2].find("http.request.header.authorization")), "[REDACTED]");
}

// A symlinked traces.db must not turn its target into a SQLite file, for the writer or the reader.
TEST(SqliteStore, SymlinkedStoreIsRefused) {
  TempDir dir;
  std::string victim = dir.path + "/victim", path = dir.path + "/traces.db", error;
  std::ofstream(victim) << "not a database";
  fs::create_symlink(victim, path);
  EXPECT_FALSE(SqliteStore::open(path, &error));
  EXPECT_NE(error.find("symbolic link"), std::string::npos) << error;
  EXPECT_FALSE(TraceStoreReader::open(path, &error));
  EXPECT_NE(error.find("symbolic link"), std::string::npos) << error;
  std::ifstream in(victim);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str(), "not a database");
  EXPECT_FALSE(fs::exists(dir.path + "/traces.db-wal"));
  // A dangling link is not followed to create its target either.
  fs::remove(path);
  fs::create_symlink(dir.path + "/made-through-link", path);
  EXPECT_FALSE(SqliteStore::open(path, &error));
  EXPECT_FALSE(fs::exists(dir.path + "/made-through-link"));
}

TEST(SqliteStore, StoreOwnedByAnotherUserIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to chown";
  TempDir dir;
  std::string path = dir.path + "/traces.db", error;
  std::ofstream(path) << "";
  ASSERT_EQ(::chown(path.c_str(), 65534, 65534), 0);
  EXPECT_FALSE(SqliteStore::open(path, &error));
  EXPECT_NE(error.find("owned by uid 65534"), std::string::npos) << error;
}

TEST(SqliteStore, MissingStoreIsAClearError) {
  std::string error;
  EXPECT_FALSE(TraceStoreReader::open("/nonexistent/traces.db", &error));
  EXPECT_NE(error.find("no trace store"), std::string::npos);
}

}  // namespace
}  // namespace llmtap::exporting
