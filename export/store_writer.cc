#include "export/store_writer.h"

#include "export/report_projection.h"

#include <algorithm>

#include "export/store_aggregates.h"
#include "export/store_encoding.h"
#include "export/store_file.h"
#include "export/store_rows.h"

namespace llmtap::exporting {
namespace {

std::string attr_text(const AttrValue& v) {
  if (auto* s = std::get_if<std::string>(&v)) return *s;
  if (auto* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
  return "";
}

}  // namespace

TraceTotals trace_totals(const Trace& trace) {
  TraceTotals t;
  if (trace.spans.empty()) return t;
  t.start_ns = trace.spans.front().start_ns;
  t.end_ns = trace.spans.front().end_ns;
  double cost[2] = {0, 0};
  int priced[2] = {0, 0};
  const Span* workflow_from = nullptr;
  const Span* root = nullptr;
  const Span* earliest = nullptr;
  std::vector<std::pair<UnixNanos, std::string>> agents;
  for (const auto& s : trace.spans) {
    t.start_ns = std::min(t.start_ns, s.start_ns);
    t.end_ns = std::max(t.end_ns, s.end_ns);
    ++t.span_count;
    t.error_count += s.error ? 1 : 0;
    if (!earliest || s.start_ns < earliest->start_ns) earliest = &s;
    if (s.kind == SpanKind::kWorkflow && (!root || s.start_ns < root->start_ns)) root = &s;
    const int k = s.kind == SpanKind::kWorkflow ? 0 : s.kind == SpanKind::kGeneration ? 1 : -1;
    for (const auto& a : s.attributes) {
      if (a.key == "llm.cost.total" && k >= 0) {
        if (auto* d = std::get_if<double>(&a.value)) cost[k] += *d, ++priced[k];
        else if (auto* i = std::get_if<std::int64_t>(&a.value)) cost[k] += static_cast<double>(*i), ++priced[k];
      } else if (a.key == "gen_ai.workflow.name") {
        if (!workflow_from || s.start_ns < workflow_from->start_ns) {
          workflow_from = &s;
          t.workflow = attr_text(a.value);
        }
      } else if (a.key == "gen_ai.agent.name") {
        std::string name = attr_text(a.value);
        auto it = std::find_if(agents.begin(), agents.end(), [&](const auto& e) { return e.second == name; });
        if (it == agents.end()) agents.emplace_back(s.start_ns, std::move(name));
        else it->first = std::min(it->first, s.start_ns);
      }
    }
  }
  for (int k = 0; k < 2 && !t.cost_usd; ++k)
    if (priced[k] > 0) t.cost_usd = cost[k];
  if (!workflow_from) t.workflow = (root ? root : earliest)->name;
  std::stable_sort(agents.begin(), agents.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [start, name] : agents) t.agents.push_back(std::move(name));
  return t;
}

constexpr const char* kTraceColumns =
    "traces(trace_id,start_ns,end_ns,workflow,agents,span_count,cost_usd,error_count,updated_ns,report) VALUES";
constexpr int kTraceColumnCount = 10;
constexpr std::size_t kTraceRowsPerInsert = 32;

StoreWriter::StoreWriter(sqlite3* db)
    : db_(db),
      keys_(db, /*writable=*/true),
      committed_(std::make_shared<CommittedKeys>()),
      // An UPDATE, not a REPLACE: the row keeps its id, which its spans refer to.
      put_trace_(db,
                 "UPDATE traces SET start_ns=?2,end_ns=?3,workflow=?4,agents=?5,span_count=?6,cost_usd=?7,error_count=?8,"
                 "updated_ns=?9,report=?10 WHERE trace_id=?1"),
      stored_spans_(db, spans_of_trace_sql(false).c_str()),
      put_event_(db, "INSERT INTO span_events(trace_id,span_id,seq,time_ns,name,attrs) VALUES(?1,?2,?3,?4,?5,?6)"),
      drop_events_(db, "DELETE FROM span_events WHERE trace_id=?1 AND span_id=?2"),
      put_spans_(db,
                 "INSERT OR REPLACE INTO spans(trace_row,span_id,parent_span_id,seq,name,kind,start_ns,end_ns,error,"
                 "status_message,attrs,content) VALUES",
                 12, 16),
      // New traces' rows go in first; a trace not returned was stored before (a trace delivered in
      // parts), which the one uniqueness check on trace_id tells without a SELECT per trace.
      add_traces_(db, std::string("INSERT INTO ") + kTraceColumns, kTraceColumnCount, kTraceRowsPerInsert,
                  " ON CONFLICT(trace_id) DO NOTHING"),
      inserted_ids_(db, "SELECT trace_id, id FROM traces WHERE id>=?1 AND id<=?2"),
      row_of_(db, "SELECT id FROM traces WHERE trace_id=?1") {
  for (auto* st : {&add_traces_.rows(1), &inserted_ids_, &row_of_, &put_spans_.rows(1), &put_trace_, &stored_spans_,
                   &put_event_, &drop_events_})
    if (!st->ok() && error_.empty()) error_ = sqlite_reason(db, sqlite3_errcode(db));
  if (error_.empty() && keys_.load(&error_)) committed_->publish(keys_.dictionary());
  aggregates_ = std::make_unique<AggregateWriter>(db, keys_);
  if (error_.empty()) error_ = aggregates_->error();
}

StoreWriter::~StoreWriter() = default;

void StoreWriter::prepare(const Trace& trace, EncodedTrace& out) const { encode_trace_rows(trace, *committed_, out); }

std::string StoreWriter::add_wanted_keys() {
  if (!error_.empty() || !committed_->any_wanted()) return "";
  const std::vector<std::string> wanted = committed_->take_wanted();
  if (int rc = sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr); rc != SQLITE_OK)
    return sqlite_reason(db_, rc);
  keys_.dictionary().mark();
  std::string why;
  for (const auto& key : wanted)
    if (keys_.id_for(key) < 0) {
      why = sqlite_reason(db_, sqlite3_errcode(db_));
      break;
    }
  if (why.empty())
    if (int rc = sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr); rc != SQLITE_OK) why = sqlite_reason(db_, rc);
  if (!why.empty()) {
    sql::exec(db_, "ROLLBACK");
    keys_.dictionary().rollback();
    return why;
  }
  committed_->publish(keys_.dictionary());
  return "";
}

void StoreWriter::bind_trace_row(sql::Stmt& st, int first, const std::string& tid, const TraceTotals& t,
                                 std::string_view agents, std::string_view report) {
  const int p = first - 1;
  st.bind_ref(p + 1, std::string_view(tid))
      .bind(p + 2, t.start_ns)
      .bind(p + 3, t.end_ns)
      .bind_ref(p + 4, std::string_view(t.workflow))
      .bind_ref(p + 5, agents)
      .bind(p + 6, t.span_count);
  if (t.cost_usd) st.bind(p + 7, *t.cost_usd);
  else st.bind_null(p + 7);
  st.bind(p + 8, t.error_count).bind(p + 9, now_ns()).bind_blob_ref(p + 10, report);
}

namespace {
const std::string& trace_id_of(const Trace& t) { return t.trace_id.empty() ? t.spans.front().trace_id : t.trace_id; }
}  // namespace

std::string StoreWriter::write_traces(const std::vector<Trace>& batch, const std::vector<EncodedTrace>* rows,
                                      const std::vector<std::size_t>& at) {
  auto pre_of = [&](std::size_t i) -> const EncodedTrace* {
    return rows && i < rows->size() && (*rows)[i].ready ? &(*rows)[i] : nullptr;
  };
  const std::size_t n = at.size();
  sql::Stmt& add = add_traces_.rows(n);
  if (!add.ok()) return sqlite_reason(db_, sqlite3_errcode(db_));
  if (fresh_rows_.size() < n) fresh_rows_.resize(n);
  for (std::size_t r = 0; r < n; ++r) {
    const Trace& t = batch[at[r]];
    const int p = add_traces_.param(r);
    if (const EncodedTrace* pre = pre_of(at[r])) {
      bind_trace_row(add, p, trace_id_of(t), pre->totals, pre->agents, pre->report);
      continue;
    }
    FreshRow& f = fresh_rows_[r];
    f.totals = trace_totals(t);
    f.agents = agents_json(f.totals.agents);
    if (!encode_report_projection(t, keys_, f.report)) {
      add.reset();
      return sqlite_reason(db_, sqlite3_errcode(db_));
    }
    bind_trace_row(add, p, trace_id_of(t), f.totals, f.agents, f.report);
  }
  if (!add.exec()) return sqlite_reason(db_, add.last_rc());
  // Every row went in: no trace was stored before (the common case). Otherwise the ones that did
  // are told by their row ids: each new row takes the largest id + 1, a row left out takes none,
  // so this statement's rows are the last CHANGES ids up to the last inserted one. (RETURNING would
  // say the same for a B-tree insert per row into a temporary table.)
  const auto changes = static_cast<std::size_t>(sqlite3_changes(db_));
  const std::int64_t last = sqlite3_last_insert_rowid(db_);
  inserted_.clear();
  if (changes > 0 && changes < n) {
    inserted_ids_.bind(1, last - static_cast<std::int64_t>(changes) + 1).bind(2, last);
    int rc;
    while ((rc = inserted_ids_.step()) == SQLITE_ROW) inserted_.emplace_back(inserted_ids_.view(0), inserted_ids_.i64(1));
    inserted_ids_.reset();
    if (rc != SQLITE_DONE) return sqlite_reason(db_, rc);
  }
  for (std::size_t r = 0; r < n; ++r) {
    const std::string& tid = trace_id_of(batch[at[r]]);
    std::int64_t row = last - static_cast<std::int64_t>(n) + 1 + static_cast<std::int64_t>(r);  // all went in
    bool existed = false;
    if (changes < n) {
      // Inserted: the first of this statement's rows with its id (a later one with the same id met that
      // row: a later part), and among the rows that went in.
      bool first = true;
      for (std::size_t e = 0; e < r && first; ++e) first = trace_id_of(batch[at[e]]) != tid;
      auto in = std::find_if(inserted_.begin(), inserted_.end(), [&](const auto& i) { return i.first == tid; });
      existed = !first || in == inserted_.end();
      if (!existed) row = in->second;
      else if (std::string e = stored_row(tid, &row); !e.empty()) return e;
    }
    if (std::string e = write_trace(batch[at[r]], pre_of(at[r]), existed, row); !e.empty()) return e;
  }
  return "";
}

std::string StoreWriter::stored_row(const std::string& trace_id, std::int64_t* row) {
  row_of_.bind_ref(1, std::string_view(trace_id));
  const int rc = row_of_.step();
  if (rc == SQLITE_ROW) *row = row_of_.i64(0);
  row_of_.reset();
  if (rc == SQLITE_ROW) return "";
  return rc == SQLITE_DONE ? "trace " + trace_id + " has no row after its insert" : sqlite_reason(db_, rc);
}

std::string StoreWriter::write_trace(const Trace& trace, const EncodedTrace* rows, bool existed, std::int64_t trace_row) {
  const std::string& tid = trace_id_of(trace);
  // What the stored parts added to the aggregates comes off before they change.
  if (existed)
    if (std::string e = aggregates_->retract(tid); !e.empty()) return e;
  // The spans in statements of up to put_spans_.max_rows() rows, in order (row ids as one INSERT per span
  // would give them); each chunk's events after it. Encoded here (without ROWS) into per-span buffers,
  // as the statement reads every row's bytes at its step.
  const std::size_t n = trace.spans.size();
  const std::size_t per_insert = put_spans_.max_rows();
  if (!rows) span_blobs_.resize(std::min(n, per_insert));
  for (std::size_t first = 0; first < n; first += per_insert) {
    const std::size_t count = std::min(per_insert, n - first);
    sql::Stmt& put = put_spans_.rows(count);
    if (!put.ok()) return sqlite_reason(db_, sqlite3_errcode(db_));
    for (std::size_t r = 0; r < count; ++r) {
      const std::size_t i = first + r;
      const Span& s = trace.spans[i];
      std::string_view attrs, content;
      if (rows) {
        attrs = rows->spans[i].first;
        content = rows->spans[i].second;
      } else {
        auto& [a, c] = span_blobs_[r];
        if (!encode_span_attributes(s, keys_, a, c)) return sqlite_reason(db_, sqlite3_errcode(db_));
        attrs = a;
        content = c;
      }
      const int p = put_spans_.param(r) - 1;
      put.bind(p + 1, trace_row)
          .bind_ref(p + 2, std::string_view(s.span_id))
          .bind_ref(p + 3, std::string_view(s.parent_span_id))
          .bind(p + 4, static_cast<std::int64_t>(i))
          .bind_ref(p + 5, std::string_view(s.name))
          .bind_ref(p + 6, to_string(s.kind))
          .bind(p + 7, s.start_ns)
          .bind(p + 8, s.end_ns)
          .bind(p + 9, std::int64_t{s.error ? 1 : 0})
          .bind_ref(p + 10, std::string_view(s.status_message))
          .bind_blob_ref(p + 11, attrs);
      if (content.empty()) put.bind_null(p + 12);
      else put.bind_blob_ref(p + 12, content);
    }
    if (!put.exec()) return sqlite_reason(db_, put.last_rc());
    for (std::size_t i = first; i < first + count; ++i)
      if (std::string e = write_events(tid, trace.spans[i], existed); !e.empty()) return e;
  }
  if (!existed) return rows ? aggregates_->add(tid, rows->facts) : aggregates_->add(tid, aggregate_facts(trace));
  // A trace delivered in parts adds up: its totals come from every span stored so far.
  Trace stored;
  stored.trace_id = tid;
  if (std::string e = read_spans(stored_spans_, tid, false, {}, keys_, stored); !e.empty()) return e;
  const TraceTotals t = trace_totals(stored);
  if (!encode_report_projection(stored, keys_, report_)) return sqlite_reason(db_, sqlite3_errcode(db_));
  const std::string agents = agents_json(t.agents);
  bind_trace_row(put_trace_, 1, tid, t, agents, report_);
  if (!put_trace_.exec()) return sqlite_reason(db_, put_trace_.last_rc());
  return aggregates_->add(tid, aggregate_facts(stored));
}

std::string StoreWriter::write_events(const std::string& trace_id, const Span& span, bool replace) {
  if (replace) {
    drop_events_.bind_ref(1, std::string_view(trace_id)).bind_ref(2, std::string_view(span.span_id));
    if (!drop_events_.exec()) return sqlite_reason(db_, drop_events_.last_rc());
  }
  for (std::size_t k = 0; k < span.events.size(); ++k) {
    const SpanEvent& e = span.events[k];
    attrs_.clear();
    for (std::size_t i = 0; i < e.attributes.size(); ++i) codec::append_attribute(attrs_, i, -1, e.attributes[i]);
    put_event_.bind_ref(1, std::string_view(trace_id))
        .bind_ref(2, std::string_view(span.span_id))
        .bind(3, static_cast<std::int64_t>(k))
        .bind(4, e.time_ns)
        .bind_ref(5, std::string_view(e.name))
        .bind_blob_ref(6, attrs_);
    if (!put_event_.exec()) return sqlite_reason(db_, put_event_.last_rc());
  }
  return "";
}

std::string StoreWriter::write(const std::vector<Trace>& batch, const std::vector<EncodedTrace>* rows) {
  if (!error_.empty()) return error_;
  if (int rc = sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr); rc != SQLITE_OK)
    return sqlite_reason(db_, rc);
  keys_.dictionary().mark();
  std::string why = aggregates_->begin();
  std::vector<std::size_t> at;  // a statement's traces (those with spans), by position in BATCH
  for (std::size_t i = 0; i < batch.size() && why.empty(); ++i) {
    if (!batch[i].spans.empty()) at.push_back(i);
    if (at.size() == add_traces_.max_rows() || (i + 1 == batch.size() && !at.empty())) {
      why = write_traces(batch, rows, at);
      at.clear();
    }
  }
  if (why.empty()) why = aggregates_->flush();
  if (why.empty()) {
    if (int rc = sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr); rc != SQLITE_OK) why = sqlite_reason(db_, rc);
    else {
      committed_->publish(keys_.dictionary());  // keys this batch added can be used by prepare() now
      aggregates_->committed();
    }
  }
  if (!why.empty()) {
    sql::exec(db_, "ROLLBACK");  // a failed COMMIT can leave the transaction open
    keys_.dictionary().rollback();
    aggregates_->discard();
  }
  return why;
}

}  // namespace llmtap::exporting
