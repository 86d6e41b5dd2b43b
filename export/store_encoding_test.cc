// Rows encoded before the writer (store_encoding.h): only with committed key ids, the same bytes the
// writer would write, and a store fed faster than it writes (so callers encode) reads back the same.
#include "export/store_encoding.h"

#include <gtest/gtest.h>

#include <cstdio>

#include "export/sqlite_store.h"
#include "export/store_rows.h"
#include "export/test_spans.h"

namespace llmtap::exporting {
namespace {

using testing::support_trace;
using testing::TempDir;

std::string trace_id(int n) {
  char id[40];
  std::snprintf(id, sizeof id, "%032x", n + 1);
  return id;
}

TEST(StoreEncoding, EncodesOnlyWithCommittedKeysAndAsTheWriterWould) {
  const Trace t = support_trace();
  CommittedKeys committed;
  EncodedTrace rows;
  encode_trace_rows(t, committed, rows);
  EXPECT_FALSE(rows.ready);  // nothing committed yet: the writer encodes this one
  const std::vector<std::string> wanted = committed.take_wanted();
  ASSERT_FALSE(wanted.empty());
  EXPECT_FALSE(committed.any_wanted());

  codec::KeyDictionary dict;
  for (std::size_t i = 0; i < wanted.size(); ++i) dict.add(i + 1, wanted[i]);
  committed.publish(dict);
  encode_trace_rows(t, committed, rows);
  ASSERT_TRUE(rows.ready);
  ASSERT_EQ(rows.spans.size(), t.spans.size());
  auto id = [&](std::string_view k) { return dict.find(k); };
  std::string attrs, content;
  for (std::size_t i = 0; i < t.spans.size(); ++i) {
    ASSERT_TRUE(encode_span_attributes(t.spans[i], id, attrs, content));
    EXPECT_EQ(rows.spans[i].first, attrs) << i;
    EXPECT_EQ(rows.spans[i].second, content) << i;
  }
  EXPECT_EQ(rows.totals.span_count, static_cast<std::int64_t>(t.spans.size()));
  EXPECT_EQ(rows.agents, agents_json(trace_totals(t).agents));
}

TEST(StoreEncoding, TracesEncodedByCallersReadBackTheSame) {
  TempDir dir;
  const std::string path = dir.path + "/traces.db";
  constexpr int kTraces = 3000;  // far more than the writer takes at once: callers encode most
  std::string error;
  {
    auto store = SqliteStore::open(path, &error);
    ASSERT_TRUE(store) << error;
    for (int n = 0; n < kTraces; ++n) store->on_trace(support_trace(trace_id(n)));
    // A trace delivered in parts: the second part's spans add to the first's totals.
    Trace part = support_trace(trace_id(0));
    for (auto& s : part.spans) s.span_id += "-2";
    store->on_trace(part);
    store->flush();
    EXPECT_EQ(store->outcome().stored, static_cast<std::uint64_t>(kTraces + 1)) << store->outcome().describe();
  }
  auto reader = TraceStoreReader::open(path, &error);
  ASSERT_TRUE(reader) << error;
  const Trace want = support_trace();
  for (int n : {1, kTraces / 2, kTraces - 1}) {
    auto got = reader->get(trace_id(n));
    ASSERT_TRUE(got) << n;
    ASSERT_EQ(got->spans.size(), want.spans.size());
    for (const auto& w : want.spans) {
      const Span* g = nullptr;
      for (const auto& s : got->spans)
        if (s.span_id == w.span_id) g = &s;
      ASSERT_NE(g, nullptr) << w.span_id;
      ASSERT_EQ(g->attributes.size(), w.attributes.size()) << w.span_id;
      for (std::size_t i = 0; i < w.attributes.size(); ++i) {
        EXPECT_EQ(g->attributes[i].key, w.attributes[i].key);
        EXPECT_TRUE(g->attributes[i].value == w.attributes[i].value) << w.attributes[i].key;
      }
    }
  }
  std::int64_t parts_spans = -1;
  for (const auto& s : reader->recent(kTraces + 10))
    if (s.trace_id == trace_id(0)) parts_spans = s.span_count;
  EXPECT_EQ(parts_spans, static_cast<std::int64_t>(2 * want.spans.size()));
}

}  // namespace
}  // namespace llmtap::exporting
