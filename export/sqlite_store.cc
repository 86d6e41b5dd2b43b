#include "export/sqlite_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <chrono>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "common/private_file.h"
#include "export/sqlite_util.h"
#include "export/store_file.h"
#include "export/unstored_traces.h"
#include "common/thread_name.h"

namespace llmtap::exporting {
namespace {

using sql::Stmt;

constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE IF NOT EXISTS traces(
  trace_id TEXT PRIMARY KEY,
  start_ns INTEGER NOT NULL,
  end_ns INTEGER NOT NULL,
  workflow TEXT NOT NULL,
  agents TEXT NOT NULL,          -- JSON array, in order of first appearance
  span_count INTEGER NOT NULL,
  cost_usd REAL,                 -- NULL when no span was priced
  error_count INTEGER NOT NULL,
  updated_ns INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS traces_by_start ON traces(start_ns DESC);
CREATE TABLE IF NOT EXISTS spans(
  trace_id TEXT NOT NULL,
  span_id TEXT NOT NULL,
  parent_span_id TEXT NOT NULL,
  seq INTEGER NOT NULL,          -- position in the trace as emitted, breaks start-time ties
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  start_ns INTEGER NOT NULL,
  end_ns INTEGER NOT NULL,
  error INTEGER NOT NULL,
  status_message TEXT NOT NULL,
  PRIMARY KEY(trace_id, span_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS attributes(
  trace_id TEXT NOT NULL,
  span_id TEXT NOT NULL,
  idx INTEGER NOT NULL,
  key TEXT NOT NULL,
  type TEXT NOT NULL,            -- string | int | double | bool | string[] (JSON text)
  value,
  PRIMARY KEY(trace_id, span_id, idx)) WITHOUT ROWID;
)sql";

constexpr std::size_t kMaxBatch = 256;

SpanKind kind_from_string(std::string_view s) {
  for (auto k : {SpanKind::kWorkflow, SpanKind::kAgent, SpanKind::kGeneration, SpanKind::kTool, SpanKind::kHandoff,
                 SpanKind::kGuardrail})
    if (to_string(k) == s) return k;
  return SpanKind::kGeneration;
}

bool configure(sqlite3* db, std::string* error) {
  sqlite3_busy_timeout(db, 5000);
  if (!sql::exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", error)) return false;
  int version = 0;
  {
    Stmt v(db, "PRAGMA user_version");  // finalized before the caller may close db on an error
    if (v.step() == SQLITE_ROW) version = static_cast<int>(v.i64(0));
  }
  if (version > kStoreSchemaVersion) {
    *error = "trace store schema version " + std::to_string(version) + " is newer than this llmtap (" +
             std::to_string(kStoreSchemaVersion) + ")";
    return false;
  }
  if (version < 1) {
    if (!sql::exec(db, "BEGIN", error) || !sql::exec(db, kSchemaV1, error) ||
        !sql::exec(db, "PRAGMA user_version=1; COMMIT", error))
      return false;
  }
  return true;
}

void bind_value(Stmt& st, int type_col, const AttrValue& v) {
  if (auto* s = std::get_if<std::string>(&v)) {
    st.bind(type_col, std::string_view("string")).bind(type_col + 1, std::string_view(*s));
  } else if (auto* i = std::get_if<std::int64_t>(&v)) {
    st.bind(type_col, std::string_view("int")).bind(type_col + 1, *i);
  } else if (auto* d = std::get_if<double>(&v)) {
    st.bind(type_col, std::string_view("double")).bind(type_col + 1, *d);
  } else if (auto* b = std::get_if<bool>(&v)) {
    st.bind(type_col, std::string_view("bool")).bind(type_col + 1, std::int64_t{*b ? 1 : 0});
  } else if (auto* list = std::get_if<std::vector<std::string>>(&v)) {
    std::string j = nlohmann::json(*list).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    st.bind(type_col, std::string_view("string[]")).bind(type_col + 1, std::string_view(j));
  }
}

AttrValue read_value(const Stmt& st, std::string_view type, int col) {
  if (type == "int") return AttrValue(st.i64(col));
  if (type == "double") return AttrValue(st.dbl(col));
  if (type == "bool") return AttrValue(st.i64(col) != 0);
  if (type == "string[]") {
    auto j = nlohmann::json::parse(st.text(col), nullptr, false);
    std::vector<std::string> out;
    if (j.is_array())
      for (const auto& e : j)
        if (e.is_string()) out.push_back(e.get<std::string>());
    return AttrValue(std::move(out));
  }
  return AttrValue(st.text(col));
}

constexpr const char* kSpansOfTrace =
    "SELECT span_id,parent_span_id,name,kind,start_ns,end_ns,error,status_message FROM spans "
    "WHERE trace_id=?1 ORDER BY start_ns, seq";

// One row of kSpansOfTrace.
Span span_from_row(const Stmt& row, const std::string& trace_id) {
  Span s;
  s.trace_id = trace_id;
  s.span_id = row.text(0);
  s.parent_span_id = row.text(1);
  s.name = row.text(2);
  s.kind = kind_from_string(row.text(3));
  s.start_ns = row.i64(4);
  s.end_ns = row.i64(5);
  s.error = row.i64(6) != 0;
  s.status_message = row.text(7);
  return s;
}

// Root workflow first (Trace's contract), the rest stay in start order.
void root_first(Trace& trace) {
  auto root = std::find_if(trace.spans.begin(), trace.spans.end(),
                           [](const Span& s) { return s.kind == SpanKind::kWorkflow; });
  if (root != trace.spans.end()) std::rotate(trace.spans.begin(), root, root + 1);
}

}  // namespace

std::string StoreOutcome::describe() const {
  std::string out = "stored " + std::to_string(stored) + " of " + std::to_string(accepted) + " trace" +
                    (accepted == 1 ? "" : "s");
  if (stored == accepted) return out;
  out += ": " + store_error;
  if (unstored > 0) out += "; " + std::to_string(unstored) + " written to " + fallback_path + " instead";
  if (lost > 0) out += "; " + std::to_string(lost) + " lost (" + fallback_error + ")";
  return out;
}

std::unique_ptr<SqliteStore> SqliteStore::open(const std::string& path, std::string* error, std::size_t max_queued) {
  // First of all, before any check or rename: a symlink or a file of another user at the path is
  // refused (SQLite would turn a link's target into a store; "damage" there is not ours to move).
  // Creating the file 0600 here also gives SQLite's -wal and -shm files that mode.
  auto create_owned = [&] {
    std::string open_error;
    int fd = open_owned_file(path, O_RDWR | O_CREAT, 0600, 0, &open_error);
    if (fd < 0) *error = "trace store: " + open_error;
    else ::close(fd);
    return fd >= 0;
  };
  if (!create_owned()) return nullptr;
  std::string set_aside;
  if (StoreCheck check = check_store_file(path); check.result == StoreCheck::kDamaged) {
    std::string err;
    set_aside = set_aside_store_file(path, &err);
    if (set_aside.empty()) {
      *error = "trace store " + path + " is damaged (" + check.reason + ") and cannot be set aside: " + err;
      return nullptr;
    }
    spdlog::warn("trace store {} is damaged ({}); moved it to {} and started a fresh store", path, check.reason,
                 set_aside);
    if (!create_owned()) return nullptr;
  }
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX | SQLITE_OPEN_NOFOLLOW,
                           nullptr);
  if (rc != SQLITE_OK) {
    *error = "cannot open trace store " + path + ": " + (db ? sqlite_reason(db, rc) : "out of memory");
    sqlite3_close(db);
    return nullptr;
  }
  sqlite3_extended_result_codes(db, 1);
  std::string err;
  if (!configure(db, &err)) {
    *error = "cannot set up trace store " + path + ": " + err;
    sqlite3_close(db);
    return nullptr;
  }
  std::unique_ptr<SqliteStore> store(new SqliteStore(path, db, max_queued));
  store->outcome_.set_aside = set_aside;
  return store;
}

std::unique_ptr<SqliteStore> SqliteStore::unavailable(const std::string& path, const std::string& reason) {
  std::unique_ptr<SqliteStore> store(new SqliteStore(path, nullptr, 50000));
  store->open_error_ = reason;
  return store;
}

StoreOutcome SqliteStore::outcome() const {
  std::lock_guard lock(out_mu_);
  return outcome_;
}

SqliteStore::SqliteStore(std::string path, sqlite3* db, std::size_t max_queued)
    : path_(std::move(path)), db_(db), max_queued_(max_queued == 0 ? 1 : max_queued) {
  thread_ = std::thread([this] {
    name_this_thread("llmtap-store");
    run();
  });
}

SqliteStore::~SqliteStore() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  room_cv_.notify_all();
  thread_.join();
  if (db_) sqlite3_close(db_);
}

void SqliteStore::on_trace(const Trace& trace) {
  if (trace.spans.empty()) return;
  {
    std::unique_lock lock(mu_);
    if (queue_.size() >= max_queued_) {
      // Traces close on the ticker or at shutdown, never on the forwarding path: wait for the disk
      // rather than drop (the open traces wait in memory meanwhile).
      if (!behind_warned_) {
        behind_warned_ = true;
        spdlog::warn("trace store {}: {} traces waiting to be written; closing traces waits for the disk", path_,
                     queue_.size());
      }
      room_cv_.wait(lock, [&] { return queue_.size() < max_queued_ || stop_; });
    }
    queue_.push_back(trace);
    ++accepted_;
  }
  {
    std::lock_guard lock(out_mu_);
    ++outcome_.accepted;
  }
  cv_.notify_one();
}

void SqliteStore::flush() {
  std::unique_lock lock(mu_);
  std::uint64_t target = accepted_;
  done_cv_.wait_for(lock, std::chrono::seconds(10), [&] { return written_ >= target; });
}

void SqliteStore::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (queue_.empty() && stop_) return;
    std::vector<Trace> batch;
    while (!queue_.empty() && batch.size() < kMaxBatch) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    room_cv_.notify_all();
    lock.unlock();
    if (std::string why = db_ ? write_batch(batch) : open_error_; why.empty()) {
      std::lock_guard out(out_mu_);
      outcome_.stored += batch.size();
    } else {
      write_elsewhere(batch, why);
    }
    lock.lock();
    written_ += batch.size();
    done_cv_.notify_all();
  }
}

void SqliteStore::write_elsewhere(const std::vector<Trace>& batch, const std::string& why) {
  if (!fallback_) {
    auto slash = path_.rfind('/');
    std::string name = slash == std::string::npos ? path_ : path_.substr(slash + 1);
    fallback_ = std::make_unique<UnstoredTraces>(name);
  }
  bool kept = fallback_->write(batch);
  std::lock_guard lock(out_mu_);
  bool first = outcome_.store_error.empty();
  if (first) outcome_.store_error = why;
  if (kept) {
    outcome_.unstored += batch.size();
    outcome_.fallback_path = fallback_->path();
  } else {
    outcome_.lost += batch.size();
    if (outcome_.fallback_error.empty()) outcome_.fallback_error = fallback_->error();
  }
  // The first failure is logged at once (the run goes on); outcome() has the totals at the end.
  if (first)
    spdlog::error("trace store {}: cannot store {} trace(s): {}; {}", path_, batch.size(), why,
                  kept ? "writing them to " + fallback_->path() + " instead" : "and " + fallback_->error());
}

std::string SqliteStore::write_batch(std::vector<Trace>& batch) {
  // The reason is taken at the failing call: after the rollback sqlite3_errmsg says "not an error".
  std::string why;
  auto check = [&](bool ok, int rc) {
    if (!ok && why.empty()) why = sqlite_reason(db_, rc);
    return ok;
  };
  auto step = [&](Stmt& st) { return check(st.exec(), st.last_rc()); };
  if (int rc = sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr); rc != SQLITE_OK)
    return sqlite_reason(db_, rc);
  Stmt del_attrs(db_, "DELETE FROM attributes WHERE trace_id=?1 AND span_id=?2");
  Stmt put_span(db_,
                "INSERT OR REPLACE INTO spans(trace_id,span_id,parent_span_id,seq,name,kind,start_ns,end_ns,error,"
                "status_message) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)");
  Stmt put_attr(db_, "INSERT INTO attributes(trace_id,span_id,idx,key,type,value) VALUES(?1,?2,?3,?4,?5,?6)");
  Stmt totals(db_, "SELECT MIN(start_ns), MAX(end_ns), COUNT(*), SUM(error) FROM spans WHERE trace_id=?1");
  Stmt cost(db_,
            "SELECT SUM(a.value), COUNT(a.value) FROM attributes a JOIN spans s USING(trace_id, span_id) "
            "WHERE a.trace_id=?1 AND a.key='llm.cost.total' AND s.kind=?2");
  Stmt workflow(db_,
                "SELECT a.value FROM attributes a JOIN spans s USING(trace_id, span_id) WHERE a.trace_id=?1 "
                "AND a.key='gen_ai.workflow.name' ORDER BY s.start_ns LIMIT 1");
  Stmt root_name(db_, "SELECT name FROM spans WHERE trace_id=?1 ORDER BY kind<>'workflow', start_ns LIMIT 1");
  Stmt agents(db_,
              "SELECT a.value, MIN(s.start_ns) AS first FROM attributes a JOIN spans s USING(trace_id, span_id) "
              "WHERE a.trace_id=?1 AND a.key='gen_ai.agent.name' GROUP BY a.value ORDER BY first");
  Stmt put_trace(db_,
                 "INSERT OR REPLACE INTO traces(trace_id,start_ns,end_ns,workflow,agents,span_count,cost_usd,"
                 "error_count,updated_ns) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9)");
  for (auto* st : {&del_attrs, &put_span, &put_attr, &totals, &cost, &workflow, &root_name, &agents, &put_trace})
    if (!st->ok()) {
      why = sqlite_reason(db_, sqlite3_errcode(db_));
      sql::exec(db_, "ROLLBACK");
      return why;
    }

  bool ok = true;
  for (const auto& trace : batch) {
    const std::string& tid = trace.trace_id.empty() ? trace.spans.front().trace_id : trace.trace_id;
    for (std::size_t i = 0; i < trace.spans.size(); ++i) {
      const Span& s = trace.spans[i];
      ok &= step(del_attrs.bind(1, std::string_view(tid)).bind(2, std::string_view(s.span_id)));
      ok &= step(put_span.bind(1, std::string_view(tid))
                .bind(2, std::string_view(s.span_id))
                .bind(3, std::string_view(s.parent_span_id))
                .bind(4, static_cast<std::int64_t>(i))
                .bind(5, std::string_view(s.name))
                .bind(6, to_string(s.kind))
                .bind(7, s.start_ns)
                .bind(8, s.end_ns)
                .bind(9, std::int64_t{s.error ? 1 : 0})
                .bind(10, std::string_view(s.status_message)));
      for (std::size_t a = 0; a < s.attributes.size(); ++a) {
        put_attr.bind(1, std::string_view(tid))
            .bind(2, std::string_view(s.span_id))
            .bind(3, static_cast<std::int64_t>(a))
            .bind(4, std::string_view(s.attributes[a].key));
        bind_value(put_attr, 5, s.attributes[a].value);
        ok &= step(put_attr);
      }
    }
    // Summary recomputed from what is stored, so a trace delivered in parts still adds up.
    std::int64_t start = 0, end = 0, count = 0, errors = 0;
    if (totals.bind(1, std::string_view(tid)).step() == SQLITE_ROW) {
      start = totals.i64(0), end = totals.i64(1), count = totals.i64(2), errors = totals.i64(3);
    }
    totals.reset();
    std::optional<double> cost_usd;
    // The root's rolled-up cost (what the tree shows), else the sum over priced generations.
    for (auto kind : {SpanKind::kWorkflow, SpanKind::kGeneration}) {
      if (cost.bind(1, std::string_view(tid)).bind(2, to_string(kind)).step() == SQLITE_ROW && cost.i64(1) > 0)
        cost_usd = cost.dbl(0);
      cost.reset();
      if (cost_usd) break;
    }
    std::string wf;
    if (workflow.bind(1, std::string_view(tid)).step() == SQLITE_ROW) wf = workflow.text(0);
    workflow.reset();
    if (wf.empty() && root_name.bind(1, std::string_view(tid)).step() == SQLITE_ROW) wf = root_name.text(0);
    root_name.reset();
    nlohmann::json agent_list = nlohmann::json::array();
    agents.bind(1, std::string_view(tid));
    while (agents.step() == SQLITE_ROW) agent_list.push_back(agents.text(0));
    agents.reset();
    put_trace.bind(1, std::string_view(tid)).bind(2, start).bind(3, end).bind(4, std::string_view(wf));
    std::string agents_json = agent_list.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    put_trace.bind(5, std::string_view(agents_json)).bind(6, count);
    if (cost_usd) put_trace.bind(7, *cost_usd); else put_trace.bind_null(7);
    put_trace.bind(8, errors).bind(9, now_ns());
    ok &= step(put_trace);
  }
  if (!ok) {
    sql::exec(db_, "ROLLBACK");
    return why.empty() ? "write failed" : why;
  }
  if (int rc = sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr); rc != SQLITE_OK) {
    why = sqlite_reason(db_, rc);
    sql::exec(db_, "ROLLBACK");  // a failed COMMIT can leave the transaction open
    return why;
  }
  return "";
}

// ---- reader ----

std::unique_ptr<TraceStoreReader> TraceStoreReader::open(const std::string& path, std::string* error) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 && errno == ENOENT) {
    *error = "no trace store at " + path + " (nothing recorded yet: run `llmtap proxy` or `llmtap run` first)";
    return nullptr;
  }
  // Before the damage check reads it: never through a link, never a file another user owns.
  std::string open_error;
  int fd = open_owned_file(path, O_RDONLY, 0, 0, &open_error);
  if (fd < 0) {
    *error = "trace store: " + open_error;
    return nullptr;
  }
  int stat_errno = ::fstat(fd, &st) == 0 ? 0 : errno;
  ::close(fd);
  if (stat_errno != 0) {
    *error = "cannot inspect trace store " + path + ": " + std::strerror(stat_errno);
    return nullptr;
  }
  if (StoreCheck check = check_store_file(path); !check.ok()) {
    *error = check.result == StoreCheck::kDamaged
                 ? "trace store " + path + " is damaged: " + check.reason +
                       " (the next `llmtap proxy` or `llmtap run` moves it aside and starts a fresh store)"
                 : "trace store " + path + ": " + check.reason;
    return nullptr;
  }
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOFOLLOW, nullptr);
  if (rc != SQLITE_OK) {
    *error = "cannot open trace store " + path + ": " + (db ? sqlite_reason(db, rc) : "out of memory");
    sqlite3_close(db);
    return nullptr;
  }
  sqlite3_busy_timeout(db, 5000);
  int version = -1;
  {
    // Finalized before any sqlite3_close below: close fails (and leaks the connection) while a
    // statement is open.
    Stmt v(db, "PRAGMA user_version");
    rc = v.step();
    if (rc == SQLITE_ROW) version = static_cast<int>(v.i64(0));
  }
  if (version < 1 || version > kStoreSchemaVersion) {
    if (rc != SQLITE_ROW) *error = "cannot read trace store " + path + ": " + sqlite_reason(db, rc);
    else if (version < 1 && st.st_size == 0) *error = "trace store " + path + " is empty (nothing recorded yet)";
    else if (version < 1) *error = path + " is an SQLite database but not an llmtap trace store";
    else *error = "trace store " + path + " was written by a newer llmtap (schema " + std::to_string(version) + ")";
    sqlite3_close(db);
    return nullptr;
  }
  return std::unique_ptr<TraceStoreReader>(new TraceStoreReader(db));
}

TraceStoreReader::~TraceStoreReader() { sqlite3_close(db_); }

std::vector<TraceSummary> TraceStoreReader::recent(int limit) const {
  std::vector<TraceSummary> out;
  Stmt st(db_,
          "SELECT trace_id,start_ns,end_ns,workflow,agents,span_count,cost_usd,error_count FROM traces "
          "ORDER BY start_ns DESC, trace_id LIMIT ?1");
  st.bind(1, static_cast<std::int64_t>(limit));
  while (st.step() == SQLITE_ROW) {
    TraceSummary t;
    t.trace_id = st.text(0);
    t.start_ns = st.i64(1);
    t.end_ns = st.i64(2);
    t.workflow = st.text(3);
    auto agents = nlohmann::json::parse(st.text(4), nullptr, false);
    if (agents.is_array())
      for (const auto& a : agents)
        if (a.is_string()) t.agents.push_back(a.get<std::string>());
    t.span_count = st.i64(5);
    if (!st.is_null(6)) t.cost_usd = st.dbl(6);
    t.error_count = st.i64(7);
    out.push_back(std::move(t));
  }
  return out;
}

std::vector<std::string> TraceStoreReader::ids_with_prefix(const std::string& prefix, int limit) const {
  std::vector<std::string> out;
  // Range scan on the primary key; ids are lowercase hex so '~' sorts after every id char.
  Stmt st(db_, "SELECT trace_id FROM traces WHERE trace_id >= ?1 AND trace_id < ?2 ORDER BY trace_id LIMIT ?3");
  st.bind(1, std::string_view(prefix)).bind(2, std::string_view(prefix + "~")).bind(3, static_cast<std::int64_t>(limit));
  while (st.step() == SQLITE_ROW) out.push_back(st.text(0));
  return out;
}

std::optional<Trace> TraceStoreReader::get(const std::string& trace_id) const {
  Stmt spans(db_, kSpansOfTrace);
  spans.bind(1, std::string_view(trace_id));
  Trace trace;
  trace.trace_id = trace_id;
  while (spans.step() == SQLITE_ROW) trace.spans.push_back(span_from_row(spans, trace_id));
  if (trace.spans.empty()) return std::nullopt;
  root_first(trace);

  Stmt attrs(db_, "SELECT span_id,key,type,value FROM attributes WHERE trace_id=?1 ORDER BY span_id, idx");
  attrs.bind(1, std::string_view(trace_id));
  Span* current = nullptr;
  while (attrs.step() == SQLITE_ROW) {
    std::string sid = attrs.text(0);
    if (!current || current->span_id != sid) {
      current = nullptr;
      for (auto& s : trace.spans)
        if (s.span_id == sid) current = &s;
      if (!current) continue;
    }
    current->attributes.push_back({attrs.text(1), read_value(attrs, attrs.text(2), 3)});
  }
  return trace;
}

std::string TraceStoreReader::scan(const TraceScan& scan, const std::function<bool(Trace&& trace)>& visit) const {
  // One statement per table, bound per trace (primary-key range scans); the trace list comes from
  // the traces_by_start index. Skipped keys are filtered in SQL so large content is never read.
  std::string attrs_sql = "SELECT span_id,key,type,value FROM attributes WHERE trace_id=?1";
  if (!scan.skip_keys.empty()) {
    attrs_sql += " AND key NOT IN (";
    for (std::size_t i = 0; i < scan.skip_keys.size(); ++i) attrs_sql += (i ? ",?" : "?") + std::to_string(i + 2);
    attrs_sql += ")";
  }
  attrs_sql += " ORDER BY span_id, idx";
  Stmt spans(db_, kSpansOfTrace);
  Stmt attrs(db_, attrs_sql.c_str());
  std::string ids_sql = scan.workflow.empty() ? "SELECT trace_id FROM traces WHERE start_ns>=?1 AND start_ns<?2"
                                              : "SELECT trace_id FROM traces WHERE start_ns>=?1 AND start_ns<?2 AND workflow=?3";
  ids_sql += scan.newest_first ? " ORDER BY start_ns DESC, trace_id DESC" : " ORDER BY start_ns, trace_id";
  Stmt ids(db_, ids_sql.c_str());
  Stmt one(db_, "SELECT start_ns, workflow FROM traces WHERE trace_id=?1");
  for (auto* st : {&spans, &attrs, &ids, &one})
    if (!st->ok()) return std::string("cannot query the trace store: ") + sqlite3_errmsg(db_);

  auto load = [&](const std::string& trace_id) {
    Trace trace;
    trace.trace_id = trace_id;
    spans.bind(1, std::string_view(trace_id));
    while (spans.step() == SQLITE_ROW) trace.spans.push_back(span_from_row(spans, trace_id));
    spans.reset();
    root_first(trace);
    // Attributes come in span-id order: index the spans once instead of searching per row.
    std::vector<std::pair<std::string_view, Span*>> by_id;
    by_id.reserve(trace.spans.size());
    for (auto& s : trace.spans) by_id.emplace_back(s.span_id, &s);
    auto by_key = [](const auto& a, const auto& b) { return a.first < b.first; };
    std::sort(by_id.begin(), by_id.end(), by_key);
    attrs.bind(1, std::string_view(trace_id));
    for (std::size_t i = 0; i < scan.skip_keys.size(); ++i)
      attrs.bind(static_cast<int>(i + 2), std::string_view(scan.skip_keys[i]));
    // Rows come grouped by span: look the span up only when it changes.
    Span* current = nullptr;
    while (attrs.step() == SQLITE_ROW) {
      const std::string_view sid = attrs.view(0);
      if (current == nullptr || current->span_id != sid) {
        auto it = std::lower_bound(by_id.begin(), by_id.end(), std::pair<std::string_view, Span*>(sid, nullptr), by_key);
        current = it != by_id.end() && it->first == sid ? it->second : nullptr;
        if (current == nullptr) continue;
      }
      current->attributes.push_back({attrs.text(1), read_value(attrs, attrs.view(2), 3)});
    }
    attrs.reset();
    return trace;
  };

  if (!scan.trace_ids.empty()) {
    for (const auto& id : scan.trace_ids) {
      if (one.bind(1, std::string_view(id)).step() != SQLITE_ROW) {
        one.reset();
        continue;
      }
      const UnixNanos start = one.i64(0);
      const std::string wf = one.text(1);
      one.reset();
      if (start < scan.since || start >= scan.until || (!scan.workflow.empty() && wf != scan.workflow)) continue;
      Trace t = load(id);
      if (!t.spans.empty() && !visit(std::move(t))) break;
    }
    return "";
  }
  ids.bind(1, scan.since).bind(2, scan.until);
  if (!scan.workflow.empty()) ids.bind(3, std::string_view(scan.workflow));
  int rc;
  while ((rc = ids.step()) == SQLITE_ROW) {
    Trace t = load(ids.text(0));
    if (!t.spans.empty() && !visit(std::move(t))) return "";
  }
  if (rc != SQLITE_DONE) return std::string("cannot read the trace store: ") + sqlite3_errmsg(db_);
  return "";
}

}  // namespace llmtap::exporting
