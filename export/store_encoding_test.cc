// Rows encoded before the writer (store_encoding.h): only with committed key ids, the same bytes the
// writer would write, and a store fed faster than it writes (so callers encode) reads back the same.
#include "export/store_encoding.h"

#include <gtest/gtest.h>

#include <sqlite3.h>

#include <cstdio>
#include <limits>
#include <map>
#include <optional>

#include "export/sqlite_store.h"
#include "export/store_aggregates.h"
#include "export/store_file.h"
#include "export/store_rows.h"
#include "export/store_schema.h"
#include "export/test_spans.h"

namespace llmtap::exporting {
namespace {

using testing::kMs;
using testing::numbered_trace;
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


// Every row of a store as text: TABLE's columns in key order (traces without updated_ns, the time
// of writing; report_hours apart, as its sums depend on the order they were added in).
std::vector<std::string> table_rows(sqlite3* db, const char* query) {
  sql::Stmt st(db, query);
  EXPECT_TRUE(st.ok()) << query << ": " << sqlite3_errmsg(db);
  std::vector<std::string> out;
  while (st.step() == SQLITE_ROW) {
    std::string row;
    for (int c = 0; c < sqlite3_column_count(st.handle()); ++c) {
      row += c ? "|" : "";
      if (st.is_null(c)) row += "NULL";
      else if (st.type(c) == SQLITE_FLOAT) row += std::to_string(st.dbl(c));
      else row += std::string(st.blob(c));
    }
    out.push_back(std::move(row));
  }
  return out;
}

std::map<std::string, GroupAggregate> aggregate_rows(sqlite3* db) {
  std::map<std::string, GroupAggregate> out;
  EXPECT_EQ(read_aggregates(db, 0, std::numeric_limits<std::int64_t>::max(), std::nullopt,
                            [&](AggregateKey&& k, GroupAggregate&& g) {
                              out[std::to_string(k.hour) + "/" + std::to_string(static_cast<int>(k.kind)) + "/" + k.key] =
                                  std::move(g);
                            }),
            "");
  return out;
}

// The traces of the path test: agent runs, a generation with an event, a run of 20 spans (more than
// one INSERT takes), and a trace delivered in three parts (two in one batch, one in the next).
std::vector<Trace> path_traces() {
  std::vector<Trace> out;
  for (int n = 0; n < 6; ++n) out.push_back(support_trace(trace_id(100 + n)));
  Trace with_event = numbered_trace(7, 3);
  SpanEvent e;
  e.time_ns = with_event.spans[1].start_ns + 1;
  e.name = "gen_ai.choice";
  e.attributes.push_back({"index", AttrValue(std::int64_t{0})});
  with_event.spans[1].events.push_back(e);
  out.push_back(with_event);
  out.push_back(numbered_trace(8, 20));
  for (int part = 0; part < 3; ++part) {
    Trace p = support_trace(trace_id(200));
    for (auto& s : p.spans) s.span_id += "-" + std::to_string(part), s.start_ns += part * 1000 * kMs;
    out.insert(out.begin() + (part == 2 ? static_cast<std::ptrdiff_t>(out.size()) : 2 + part), p);
  }
  return out;
}

TEST(StoreWriter, EveryPathStoresTheSameRows) {
  // One trace per transaction encoded by the writer (the old shape of every write) against batches
  // encoded beforehand: the same rows, row ids included. Both stores first get every key in the same
  // order, as key ids depend on the order keys are met in.
  TempDir dir;
  const std::vector<Trace> traces = path_traces();
  std::vector<Trace> seed = traces;
  for (auto& t : seed) {
    t.trace_id = "5eed" + t.trace_id.substr(4);
    for (auto& s : t.spans) s.trace_id = t.trace_id;
  }
  auto open = [&](const std::string& name) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open((dir.path + "/" + name).c_str(), &db), SQLITE_OK);
    int from = 0;
    std::string error;
    EXPECT_TRUE(bring_schema_up_to_date(db, &from, &error)) << error;
    return db;
  };
  sqlite3* one_by_one = open("one.db");
  sqlite3* batched = open("batched.db");
  {
    StoreWriter a(one_by_one), b(batched);
    ASSERT_EQ(a.error(), "");
    ASSERT_EQ(b.error(), "");
    ASSERT_EQ(a.write(seed), "");
    ASSERT_EQ(b.write(seed), "");
    for (const Trace& t : traces) ASSERT_EQ(a.write({t}), "");
    // Batches of 9 and the rest, each trace encoded as a caller would.
    const std::vector<Trace> first(traces.begin(), traces.begin() + 9), rest(traces.begin() + 9, traces.end());
    for (const auto* batch : {&first, &rest}) {
      std::vector<EncodedTrace> rows(batch->size());
      for (std::size_t i = 0; i < batch->size(); ++i) {
        b.prepare((*batch)[i], rows[i]);
        ASSERT_TRUE(rows[i].ready) << i;
      }
      ASSERT_EQ(b.write(*batch, &rows), "");
    }
  }
  for (const char* query : {
           "SELECT * FROM attr_keys ORDER BY id",
           "SELECT trace_id,start_ns,end_ns,workflow,agents,span_count,cost_usd,error_count,report FROM traces "
           "ORDER BY trace_id",
           "SELECT * FROM spans ORDER BY id",
           "SELECT rowid,* FROM span_events ORDER BY rowid",
           "SELECT * FROM trace_stats ORDER BY trace_id",
       }) {
    const auto want = table_rows(one_by_one, query), got = table_rows(batched, query);
    EXPECT_FALSE(want.empty()) << query;
    EXPECT_EQ(got, want) << query;
  }
  // Every span refers to its own trace's row: each trace's span count is the spans that name it.
  for (sqlite3* db : {one_by_one, batched})
    EXPECT_EQ(table_rows(db, "SELECT t.trace_id FROM traces t WHERE t.span_count != "
                             "(SELECT COUNT(*) FROM spans s WHERE s.trace_row = t.id) "
                             "UNION ALL SELECT s.id FROM spans s WHERE s.trace_row NOT IN (SELECT id FROM traces)"),
              std::vector<std::string>{});
  const auto want = aggregate_rows(one_by_one), got = aggregate_rows(batched);
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [key, w] : want) {
    ASSERT_TRUE(got.count(key)) << key;
    const GroupAggregate& g = got.at(key);
    EXPECT_EQ(g.counts, w.counts) << key;
    for (int i = 0; i < GroupAggregate::kSumSlots; ++i) EXPECT_NEAR(g.sums[i], w.sums[i], 1e-9) << key << " sum " << i;
    for (int i = 0; i < GroupAggregate::kHistSlots; ++i) {
      std::string eg, ew;
      g.hists[i].encode(eg);
      w.hists[i].encode(ew);
      EXPECT_EQ(eg, ew) << key << " histogram " << i;
    }
  }
  sqlite3_close(one_by_one);
  sqlite3_close(batched);
}

}  // namespace
}  // namespace llmtap::exporting
