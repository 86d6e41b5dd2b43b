// Schema versions: a store written by llmtap at schema 1 (testdata/store_v1.sql, dumped from that
// version) is migrated in place and reads back exactly what was recorded; a store from a newer
// llmtap is refused with a message, never rewritten; the span codec round-trips every value type
// and rejects malformed blobs.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>
#include <random>
#include <sstream>

#include "export/span_codec.h"
#include "export/report_projection.h"
#include "export/sqlite_store.h"
#include "export/test_spans.h"
#include "export/test_store_versions.h"

#ifndef LLMTAP_EXPORT_TESTDATA
#error "LLMTAP_EXPORT_TESTDATA must name export/testdata"
#endif

namespace llmtap::exporting {
namespace {

using testing::TempDir;

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The v1 fixture loaded into a database file at PATH.
void make_v1_store(const std::string& path) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  std::string sql = read_file(std::string(LLMTAP_EXPORT_TESTDATA) + "/store_v1.sql");
  ASSERT_FALSE(sql.empty());
  char* msg = nullptr;
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &msg), SQLITE_OK) << (msg ? msg : "");
  sqlite3_close(db);
}

std::int64_t query_int(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* st = nullptr;
  std::int64_t v = -1;
  if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
    v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return v;
}

// What the fixture recorded (tools/v1 generator: support_trace with two content attributes, and
// numbered_trace(0..2, 3)).
std::vector<Trace> fixture_traces() {
  std::vector<Trace> out;
  Trace t = testing::support_trace();
  t.spans[2].set("gen_ai.input.messages", std::string("[{\"role\":\"user\",\"content\":\"where is my order?\"}]"));
  t.spans[2].set("gen_ai.output.messages", std::string("[{\"role\":\"assistant\",\"content\":\"looking\"}]"));
  out.push_back(t);
  for (int i = 0; i < 3; ++i) out.push_back(testing::numbered_trace(i, 3));
  return out;
}

void expect_same_spans(const Trace& want, const Trace& got) {
  ASSERT_EQ(want.spans.size(), got.spans.size());
  for (const auto& w : want.spans) {
    SCOPED_TRACE(w.span_id);
    auto g = std::find_if(got.spans.begin(), got.spans.end(), [&](const Span& s) { return s.span_id == w.span_id; });
    ASSERT_NE(g, got.spans.end());
    EXPECT_EQ(g->parent_span_id, w.parent_span_id);
    EXPECT_EQ(g->name, w.name);
    EXPECT_EQ(g->kind, w.kind);
    EXPECT_EQ(g->start_ns, w.start_ns);
    EXPECT_EQ(g->end_ns, w.end_ns);
    EXPECT_EQ(g->error, w.error);
    EXPECT_EQ(g->status_message, w.status_message);
    ASSERT_EQ(g->attributes.size(), w.attributes.size());
    for (std::size_t i = 0; i < w.attributes.size(); ++i) {
      EXPECT_EQ(g->attributes[i].key, w.attributes[i].key);  // in the order recorded
      EXPECT_EQ(g->attributes[i].value, w.attributes[i].value) << w.attributes[i].key;
    }
  }
}

TEST(StoreMigration, AVersionOneStoreIsMigratedAndReadsBackWhatWasRecorded) {
  TempDir dir;
  const std::string path = dir.path + "/traces.db";
  make_v1_store(path);
  ASSERT_EQ(query_int(path, "PRAGMA user_version"), 1);
  std::string error;
  {
    auto store = SqliteStore::open(path, &error);
    ASSERT_TRUE(store) << error;
    EXPECT_EQ(store->outcome().migrated, "schema 1 -> " + std::to_string(kStoreSchemaVersion));
    // Written after the migration: the trace delivered again with one more priced span adds up.
    Trace again = testing::numbered_trace(2, 4);
    again.spans[3].set("llm.cost.total", 0.5);
    store->on_trace(again);
  }
  EXPECT_EQ(query_int(path, "PRAGMA user_version"), kStoreSchemaVersion);
  EXPECT_EQ(query_int(path, "SELECT COUNT(*) FROM sqlite_master WHERE name='attributes'"), 0);
  EXPECT_EQ(query_int(path, "SELECT COUNT(*) FROM spans"), 16);
  auto reader = TraceStoreReader::open(path, &error);
  ASSERT_TRUE(reader) << error;
  auto want = fixture_traces();
  for (const auto& w : want) {
    if (w.trace_id == testing::numbered_trace(2, 3).trace_id) continue;
    auto got = reader->get(w.trace_id);
    ASSERT_TRUE(got) << w.trace_id;
    expect_same_spans(w, *got);
  }
  auto summaries = reader->recent(10);
  ASSERT_EQ(summaries.size(), 4u);
  for (const auto& s : summaries) {
    if (s.trace_id == want[0].trace_id) {
      EXPECT_EQ(s.workflow, "Support Agent");
      EXPECT_EQ(s.agents, std::vector<std::string>{"Billing Agent"});
      ASSERT_TRUE(s.cost_usd);
      EXPECT_DOUBLE_EQ(*s.cost_usd, 0.0142);
      EXPECT_EQ(s.error_count, 1);
    } else if (s.trace_id == testing::numbered_trace(2, 3).trace_id) {
      EXPECT_EQ(s.span_count, 4);  // the v1 spans and the new one, merged
      ASSERT_TRUE(s.cost_usd);
      EXPECT_DOUBLE_EQ(*s.cost_usd, 0.5);
    }
  }
  // The report's view leaves content out without reading it.
  TraceScan scan;
  scan.trace_ids = {want[0].trace_id};
  scan.skip_keys = {"gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.system_instructions",
                    "gen_ai.tool.call.result"};
  int seen = 0;
  EXPECT_EQ(reader->scan(scan, [&](Trace&& t) {
    ++seen;
    for (const auto& s : t.spans) EXPECT_EQ(s.find("gen_ai.input.messages"), nullptr);
    EXPECT_NE(t.spans[2].find("gen_ai.request.model"), nullptr);
    return true;
  }), "");
  EXPECT_EQ(seen, 1);
}

TEST(StoreMigration, AReaderMigratesAVersionOneStoreOnFirstOpen) {
  TempDir dir;
  const std::string path = dir.path + "/traces.db";
  make_v1_store(path);
  std::string error;
  auto reader = TraceStoreReader::open(path, &error);
  ASSERT_TRUE(reader) << error;
  EXPECT_EQ(reader->recent(10).size(), 4u);
  EXPECT_EQ(query_int(path, "PRAGMA user_version"), kStoreSchemaVersion);
}

TEST(StoreMigration, AStoreFromANewerLlmtapIsRefusedAndLeftAlone) {
  TempDir dir;
  const std::string path = dir.path + "/traces.db";
  std::string error;
  { ASSERT_TRUE(SqliteStore::open(path, &error)) << error; }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version=99", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  EXPECT_FALSE(SqliteStore::open(path, &error));
  EXPECT_NE(error.find("schema version 99 is newer than this llmtap (" + std::to_string(kStoreSchemaVersion) + ")"),
            std::string::npos)
      << error;
  EXPECT_NE(error.find(path), std::string::npos) << error;
  EXPECT_FALSE(TraceStoreReader::open(path, &error));
  EXPECT_NE(error.find("newer llmtap (schema 99"), std::string::npos) << error;
  EXPECT_EQ(query_int(path, "PRAGMA user_version"), 99);
}

// A store as schema 2 left it: no report projections, no span_events table.
TEST(StoreMigration, AVersionTwoStoreGetsProjectionsAndEventsAndReadsTheSame) {
  TempDir dir;
  const std::string path = dir.path + "/traces.db";
  std::string error;
  {
    auto store = SqliteStore::open(path, &error);
    ASSERT_TRUE(store) << error;
    store->on_trace(testing::support_trace());
  }
  ASSERT_EQ(testing::downgrade_store_to_v5(path), "");
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "ALTER TABLE traces DROP COLUMN report; DROP TABLE span_events; DROP TABLE report_hours; "
                         "DROP TABLE trace_stats; PRAGMA user_version=2",
                         nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  Trace later = testing::numbered_trace(7, 3);
  later.spans[0].events.push_back({"llmtap.alert", later.spans[0].end_ns, {{"llmtap.alert.rule", std::string("big")}}});
  {
    auto store = SqliteStore::open(path, &error);
    ASSERT_TRUE(store) << error;
    EXPECT_EQ(store->outcome().migrated, "schema 2 -> " + std::to_string(kStoreSchemaVersion));
    store->on_trace(later);
  }
  EXPECT_EQ(query_int(path, "PRAGMA user_version"), kStoreSchemaVersion);
  EXPECT_EQ(query_int(path, "SELECT COUNT(*) FROM traces WHERE report IS NULL"), 1);  // the one stored before
  auto reader = TraceStoreReader::open(path, &error);
  ASSERT_TRUE(reader) << error;
  // The projection scan reads both: the old trace projected from its spans, the new one from its row.
  std::vector<Trace> projected;
  TraceScan scan;
  scan.report_projection = true;
  ASSERT_EQ(reader->scan(scan, [&](Trace&& t) { return projected.push_back(std::move(t)), true; }), "");
  ASSERT_EQ(projected.size(), 2u);
  for (const auto& t : projected) {
    auto whole = reader->get(t.trace_id);
    ASSERT_TRUE(whole);
    const Trace want = report_projection(*whole);
    ASSERT_EQ(t.spans.size(), want.spans.size());
    for (std::size_t i = 0; i < want.spans.size(); ++i) {
      EXPECT_EQ(t.spans[i].name, want.spans[i].name);
      EXPECT_EQ(t.spans[i].kind, want.spans[i].kind);
      EXPECT_EQ(t.spans[i].start_ns, want.spans[i].start_ns);
      EXPECT_EQ(t.spans[i].end_ns, want.spans[i].end_ns);
      ASSERT_EQ(t.spans[i].attributes.size(), want.spans[i].attributes.size()) << t.spans[i].name;
      for (std::size_t a = 0; a < want.spans[i].attributes.size(); ++a) {
        EXPECT_EQ(t.spans[i].attributes[a].key, want.spans[i].attributes[a].key);
        EXPECT_EQ(t.spans[i].attributes[a].value, want.spans[i].attributes[a].value);
      }
    }
  }
  auto back = reader->get(later.trace_id);
  ASSERT_TRUE(back);
  ASSERT_EQ(back->spans[0].events.size(), 1u);
  EXPECT_EQ(back->spans[0].events[0].name, "llmtap.alert");
  EXPECT_EQ(back->spans[0].events[0].time_ns, later.spans[0].end_ns);
  EXPECT_EQ(back->spans[0].events[0].attributes[0].value, AttrValue(std::string("big")));
}

TEST(StoreMigration, AVersionFiveStoreKeepsItsTracesInOrderAndTheirSpansByRow) {
  TempDir dir;
  const std::string path = dir.path + "/traces.db";
  std::string error;
  // Written in an order unlike the ids' (row order is insertion order), one with content and events.
  std::vector<Trace> written = {testing::numbered_trace(9, 3), fixture_traces()[0], testing::numbered_trace(4, 2)};
  written[1].spans[0].events.push_back({"llmtap.alert", written[1].spans[0].end_ns, {{"llmtap.alert.rule", std::string("r")}}});
  {
    auto store = SqliteStore::open(path, &error);
    ASSERT_TRUE(store) << error;
    for (const auto& t : written) store->on_trace(t);
  }
  ASSERT_EQ(testing::downgrade_store_to_v5(path), "");
  ASSERT_EQ(query_int(path, "PRAGMA user_version"), 5);
  Trace later = testing::numbered_trace(9, 4);  // a later part of a trace stored before the migration
  later.spans[3].set("llm.cost.total", 0.5);
  {
    auto store = SqliteStore::open(path, &error);
    ASSERT_TRUE(store) << error;
    EXPECT_EQ(store->outcome().migrated, "schema 5 -> " + std::to_string(kStoreSchemaVersion));
    store->on_trace(later);
    store->on_trace(testing::numbered_trace(11, 2));
  }
  EXPECT_EQ(query_int(path, "PRAGMA user_version"), kStoreSchemaVersion);
  EXPECT_EQ(query_int(path, "SELECT COUNT(*) FROM sqlite_master WHERE name LIKE '%v5'"), 0);
  EXPECT_EQ(query_int(path, "SELECT COUNT(*) FROM pragma_index_info('spans_by_trace') WHERE name='trace_row'"), 1);
  // The rows kept their order: the first written has the smallest id, the one added after the last.
  EXPECT_EQ(query_int(path, ("SELECT id FROM traces WHERE trace_id='" + written[0].trace_id + "'").c_str()), 1);
  EXPECT_EQ(query_int(path, ("SELECT id FROM traces WHERE trace_id='" + written[2].trace_id + "'").c_str()), 3);
  EXPECT_EQ(query_int(path, ("SELECT id FROM traces WHERE trace_id='" + testing::numbered_trace(11, 2).trace_id + "'").c_str()), 4);
  EXPECT_EQ(query_int(path, "SELECT COUNT(*) FROM spans"), 4 + 6 + 2 + 2);
  auto reader = TraceStoreReader::open(path, &error);
  ASSERT_TRUE(reader) << error;
  for (const Trace& want : {later, written[1], written[2]}) {
    auto got = reader->get(want.trace_id);
    ASSERT_TRUE(got) << want.trace_id;
    expect_same_spans(want, *got);
  }
  auto back = reader->get(written[1].trace_id);
  ASSERT_TRUE(back);
  ASSERT_EQ(back->spans[0].events.size(), 1u);
  EXPECT_EQ(back->spans[0].events[0].name, "llmtap.alert");
  for (const auto& s : reader->recent(10))
    if (s.trace_id == later.trace_id) {
      EXPECT_EQ(s.span_count, 4);
      ASSERT_TRUE(s.cost_usd);
      EXPECT_DOUBLE_EQ(*s.cost_usd, 0.5);
    }
}

// The report projection keeps only what the report reads and never the arguments' text.
TEST(ReportProjection, KeepsTheReportsAttributesAndFingerprintsArguments) {
  Trace t = testing::support_trace();
  for (auto& s : t.spans)
    if (s.kind == SpanKind::kTool) {
      s.set("gen_ai.tool.call.arguments", std::string("{\"order\":\"A-1\"}"));
      s.set("gen_ai.tool.call.result", std::string("shipped"));
    }
  const Trace p = report_projection(t);
  ASSERT_EQ(p.spans.size(), t.spans.size());
  bool saw_tool = false;
  for (std::size_t i = 0; i < p.spans.size(); ++i) {
    for (const auto& a : p.spans[i].attributes) EXPECT_TRUE(is_report_key(a.key)) << a.key;
    if (p.spans[i].kind != SpanKind::kTool) continue;
    saw_tool = true;
    EXPECT_EQ(p.spans[i].find("gen_ai.tool.call.result"), nullptr);
    auto* args = std::get_if<std::string>(p.spans[i].find("gen_ai.tool.call.arguments"));
    ASSERT_NE(args, nullptr);
    EXPECT_EQ(args->find("A-1"), std::string::npos);
    EXPECT_EQ(*args, *std::get_if<std::string>(report_projection(t).spans[i].find("gen_ai.tool.call.arguments")));
  }
  EXPECT_TRUE(saw_tool);
}

TEST(SpanCodec, SpoolKeepsSpanEventsAndGuardrails) {
  Trace t = testing::support_trace();
  t.spans[1].kind = SpanKind::kGuardrail;
  t.spans[0].events.push_back({"llmtap.alert", 42, {{"llmtap.alert.rule", std::string("r")}, {"n", std::int64_t{3}}}});
  t.spans[2].events.push_back({"e2", -1, {}});
  std::string bytes;
  codec::encode_trace(t, bytes);
  Trace back;
  ASSERT_TRUE(codec::decode_trace(bytes, back));
  EXPECT_EQ(back.spans[1].kind, SpanKind::kGuardrail);
  ASSERT_EQ(back.spans[0].events.size(), 1u);
  EXPECT_EQ(back.spans[0].events[0].time_ns, 42);
  ASSERT_EQ(back.spans[0].events[0].attributes.size(), 2u);
  EXPECT_EQ(back.spans[0].events[0].attributes[1].value, AttrValue(std::int64_t{3}));
  ASSERT_EQ(back.spans[2].events.size(), 1u);
  EXPECT_EQ(back.spans[2].events[0].name, "e2");
  EXPECT_TRUE(back.spans[1].events.empty());
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    Trace cut;
    codec::decode_trace(std::string_view(bytes).substr(0, n), cut);  // false or a trace, never out of bounds
  }
}

TEST(SpanCodec, RoundTripsEveryValueTypeAndRejectsMalformedBlobs) {
  Trace t = testing::support_trace();
  t.spans[0].set("neg", std::int64_t{-42});
  t.spans[0].set("big", std::int64_t{1} << 62);
  t.spans[0].set("list", std::vector<std::string>{"a", "", std::string(300, 'x')});
  t.spans[0].set("nul", std::string("a\0b", 3));
  std::string bytes;
  codec::encode_trace(t, bytes);
  Trace back;
  ASSERT_TRUE(codec::decode_trace(bytes, back));
  ASSERT_EQ(back.spans.size(), t.spans.size());
  for (std::size_t i = 0; i < t.spans.size(); ++i) {
    EXPECT_EQ(back.spans[i].span_id, t.spans[i].span_id);
    ASSERT_EQ(back.spans[i].attributes.size(), t.spans[i].attributes.size());
    for (std::size_t a = 0; a < t.spans[i].attributes.size(); ++a) {
      EXPECT_EQ(back.spans[i].attributes[a].key, t.spans[i].attributes[a].key);
      EXPECT_EQ(back.spans[i].attributes[a].value, t.spans[i].attributes[a].value);
    }
  }
  // Every cut and random bytes: false or a trace, never a read out of bounds (ASan watches).
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    Trace cut;
    EXPECT_FALSE(codec::decode_trace(std::string_view(bytes).substr(0, n), cut)) << n;
  }
  std::mt19937 rng(3);
  for (int round = 0; round < 2000; ++round) {
    std::string noisy = bytes;
    for (int k = 0; k < 4; ++k) noisy[rng() % noisy.size()] = static_cast<char>(rng());
    Trace any;
    codec::decode_trace(noisy, any);
  }
  // A key id the dictionary does not know is an error, not a guess.
  codec::KeyDictionary keys;
  keys.add(1, "known");
  std::string blob;
  codec::append_attribute(blob, 0, 7, {"unknown", AttrValue(std::string("v"))});
  std::vector<std::pair<std::uint64_t, Attribute>> out;
  std::uint64_t unknown = 0;
  EXPECT_FALSE(codec::decode_attributes(blob, &keys, out, &unknown));
  EXPECT_EQ(unknown, 7u);
}

}  // namespace
}  // namespace llmtap::exporting
