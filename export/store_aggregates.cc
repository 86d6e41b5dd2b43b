#include "export/store_aggregates.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <cstring>

#include "export/report_projection.h"
#include "export/store_file.h"
#include "export/store_keys.h"
#include "export/store_rows.h"

namespace llmtap::exporting {
namespace {

constexpr std::size_t kStatsRowsPerInsert = 32;
constexpr std::int32_t kExponentOffset = 400;  // decimal exponents -400..; a bucket is (exponent, mantissa 100..999)

double pow10(int e) {
  static constexpr double kExact[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                      1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
  return e >= 0 && e <= 22 ? kExact[e] : std::pow(10.0, e);
}

// m * 10^(e-2), computed so that a value with 3 significant digits comes back as the same double.
double bucket_value(int e, std::int64_t m) {
  const double mant = static_cast<double>(m);
  return e >= 2 ? mant * pow10(e - 2) : mant / pow10(2 - e);
}

std::int32_t bucket_of(double v) {
  if (!(v > 0) || !std::isfinite(v)) return 0;  // zero, negative and NaN read as 0 (durations, costs are >= 0)
  int e = static_cast<int>(std::floor(std::log10(v)));
  std::int64_t m = std::llround(e >= 2 ? v / pow10(e - 2) : v * pow10(2 - e));
  if (m >= 1000) ++e, m = std::llround(static_cast<double>(m) / 10.0);
  if (m < 100) --e, m *= 10;  // log10 rounded up at a power of ten
  e = std::clamp(e, -kExponentOffset + 1, kExponentOffset);
  return (e + kExponentOffset) * 900 + static_cast<std::int32_t>(m - 100) + 1;
}

double value_of(std::int32_t b) {
  if (b <= 0) return 0;
  const int e = (b - 1) / 900 - kExponentOffset;
  return bucket_value(e, (b - 1) % 900 + 100);
}

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) out.push_back(static_cast<char>((v & 0x7f) | 0x80)), v >>= 7;
  out.push_back(static_cast<char>(v));
}
void put_signed(std::string& out, std::int64_t v) {
  put_varint(out, (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63));
}
bool get_varint(std::string_view& in, std::uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64 && !in.empty(); shift += 7) {
    const auto byte = static_cast<unsigned char>(in.front());
    in.remove_prefix(1);
    *v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
    if (!(byte & 0x80)) return true;
  }
  return false;
}
bool get_signed(std::string_view& in, std::int64_t* v) {
  std::uint64_t u;
  if (!get_varint(in, &u)) return false;
  *v = static_cast<std::int64_t>(u >> 1) ^ -static_cast<std::int64_t>(u & 1);
  return true;
}

std::string or_dash(const std::string& s) { return s.empty() ? "-" : s; }

}  // namespace

double DecimalHistogram::rounded(double value) { return value_of(bucket_of(value)); }

void DecimalHistogram::add(double value, std::int64_t n) {
  const std::int32_t b = bucket_of(value);
  if ((counts_[b] += n) == 0) counts_.erase(b);
}

void DecimalHistogram::merge(const DecimalHistogram& other, int sign) {
  for (const auto& [b, n] : other.counts_)
    if ((counts_[b] += sign * n) == 0) counts_.erase(b);
}

std::int64_t DecimalHistogram::count() const {
  std::int64_t n = 0;
  for (const auto& [b, c] : counts_) n += c;
  return n;
}

double DecimalHistogram::percentile(double p) const {
  const std::int64_t n = count();
  if (n <= 0) return 0;
  // The same rank as report.cc's nearest-rank percentile over the exact values.
  const auto rank = std::clamp<std::int64_t>(static_cast<std::int64_t>(std::ceil(p / 100.0 * static_cast<double>(n))), 1, n);
  std::int64_t seen = 0;
  for (const auto& [b, c] : counts_)
    if ((seen += c) >= rank) return value_of(b);
  return value_of(counts_.rbegin()->first);
}

double DecimalHistogram::max() const { return counts_.empty() ? 0 : value_of(counts_.rbegin()->first); }

void DecimalHistogram::encode(std::string& out) const {
  put_varint(out, counts_.size());
  std::int32_t last = 0;
  for (const auto& [b, c] : counts_) {
    put_varint(out, static_cast<std::uint64_t>(b - last));
    put_signed(out, c);
    last = b;
  }
}

bool DecimalHistogram::decode(std::string_view& in) {
  counts_.clear();
  std::uint64_t n, delta;
  if (!get_varint(in, &n) || n > in.size()) return false;
  std::int64_t b = 0, c;
  for (std::uint64_t i = 0; i < n; ++i) {
    if (!get_varint(in, &delta) || !get_signed(in, &c)) return false;
    b += static_cast<std::int64_t>(delta);
    if (b > std::numeric_limits<std::int32_t>::max()) return false;
    counts_[static_cast<std::int32_t>(b)] = c;
  }
  return true;
}

void GroupAggregate::merge(const GroupAggregate& o, int sign) {
  for (int i = 0; i < kCountSlots; ++i) counts[i] += sign * o.counts[i];
  for (int i = 0; i < kSumSlots; ++i) sums[i] += sign * o.sums[i];
  for (int i = 0; i < kHistSlots; ++i) hists[i].merge(o.hists[i], sign);
}

void GroupAggregate::add_call(const CallFacts& c, int sign) {
  counts[kCalls] += sign;
  counts[kCallErrors] += c.error ? sign : 0;
  counts[kInputTokens] += sign * c.input_tokens;
  counts[kCachedTokens] += sign * c.cached_tokens;
  counts[kOutputTokens] += sign * c.output_tokens;
  counts[kReasoningTokens] += sign * c.reasoning_tokens;
  if (c.cost_usd) {
    counts[kPricedCalls] += sign;
    sums[kCostUsd] += sign * *c.cost_usd;
  } else if (c.usage_reported) {
    counts[kUnpricedCalls] += sign;
  }
  sums[kCallDurationMs] += sign * c.duration_ms;
  hists[kCallDuration].add(c.duration_ms, sign);
}

void GroupAggregate::add_run(const TraceFacts& f, std::int64_t spans, int sign) {
  counts[kTraces] += sign;
  counts[kSpans] += sign * spans;
  counts[kFailedTraces] += f.failed ? sign : 0;
  counts[kHandoffTraces] += f.handoffs.empty() ? 0 : sign;
  counts[kLoopRuns] += loop_reason(f, kAggregateLoopRepeats, kAggregateLoopModelCalls).empty() ? 0 : sign;
  counts[kArgumentsMissing] += f.tool_arguments_missing ? sign : 0;
  counts[kModelCallsSum] += sign * f.model_calls;
  counts[kToolCallsSum] += sign * f.tool_calls;
  sums[kTraceDurationMs] += sign * f.duration_ms;
  hists[kTraceDuration].add(f.duration_ms, sign);
  hists[kModelCallsPerRun].add(static_cast<double>(f.model_calls), sign);
  hists[kToolCallsPerRun].add(static_cast<double>(f.tool_calls), sign);
  if (f.cost_usd) {
    counts[kPricedTraces] += sign;
    sums[kTraceCostUsd] += sign * *f.cost_usd;
    hists[kTraceCost].add(*f.cost_usd, sign);
  } else {
    counts[kUnpricedTraces] += sign;
  }
}

void GroupAggregate::add_tool(const ToolFacts& t, int sign) {
  counts[kToolCalls] += sign;
  counts[kToolFailures] += t.failed ? sign : 0;
  counts[kToolUnanswered] += t.unanswered ? sign : 0;
  sums[kToolLatencyMs] += sign * t.latency_ms;
  sums[kRequestingCostUsd] += sign * t.requesting_cost_usd;
  hists[kToolLatency].add(t.latency_ms, sign);
}

// Slot counts first, so that a later llmtap with more slots still reads older rows (missing slots: 0).
std::string GroupAggregate::encode() const {
  std::string out;
  put_varint(out, kCountSlots);
  for (auto c : counts) put_signed(out, c);
  put_varint(out, kSumSlots);
  for (double s : sums) {
    char b[8];
    std::memcpy(b, &s, 8);
    out.append(b, 8);
  }
  put_varint(out, kHistSlots);
  for (const auto& h : hists) h.encode(out);
  return out;
}

bool GroupAggregate::decode(std::string_view in) {
  *this = GroupAggregate();
  std::uint64_t n;
  if (!get_varint(in, &n)) return false;
  for (std::uint64_t i = 0; i < n; ++i) {
    std::int64_t v;
    if (!get_signed(in, &v)) return false;
    if (i < kCountSlots) counts[i] = v;
  }
  if (!get_varint(in, &n) || in.size() < 8 * n) return false;
  for (std::uint64_t i = 0; i < n; ++i, in.remove_prefix(8))
    if (i < kSumSlots) std::memcpy(&sums[i], in.data(), 8);
  if (!get_varint(in, &n)) return false;
  DecimalHistogram skipped;
  for (std::uint64_t i = 0; i < n; ++i)
    if (!(i < kHistSlots ? hists[i] : skipped).decode(in)) return false;
  return true;
}

void add_trace(AggregateMap& out, const TraceFacts& f, std::int64_t spans, int sign) {
  const std::int64_t hour = f.start_ns / kAggregateHourNs;
  auto group = [&](AggregateKind kind, std::string key) -> GroupAggregate& {
    return out[AggregateKey{hour, kind, std::move(key)}];
  };
  GroupAggregate& total = group(AggregateKind::kTotal, "");
  GroupAggregate& workflow = group(AggregateKind::kWorkflow, or_dash(f.workflow));
  total.add_run(f, spans, sign);
  workflow.add_run(f, spans, sign);
  for (const CallFacts& c : f.calls) {
    total.add_call(c, sign);
    workflow.add_call(c, sign);
    group(AggregateKind::kAgent, or_dash(c.agent)).add_call(c, sign);
    group(AggregateKind::kModel, or_dash(c.model)).add_call(c, sign);
    group(AggregateKind::kUser, or_dash(c.user)).add_call(c, sign);
  }
  for (const ToolFacts& t : f.tools) group(AggregateKind::kTool, or_dash(t.name)).add_tool(t, sign);
}

const char* const kAggregateTables = R"sql(
CREATE TABLE IF NOT EXISTS report_hours(
  hour INTEGER NOT NULL,         -- trace start / 3600 s
  kind INTEGER NOT NULL,         -- store_aggregates.h AggregateKind
  key TEXT NOT NULL,
  data BLOB NOT NULL,            -- GroupAggregate::encode()
  PRIMARY KEY(kind, hour, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS trace_stats(
  trace_id TEXT NOT NULL,
  start_ns INTEGER NOT NULL,
  cost_usd REAL,                 -- over priced model calls (the report's trace cost); NULL when none was priced
  loop INTEGER NOT NULL,         -- 1: the report's loop rule (default thresholds) holds
  user TEXT NOT NULL,            -- trace_facts.h TraceParties
  session TEXT NOT NULL,
  -- Schema 5: keyed by start, so that a new row is an append (trace ids are random) and the window
  -- reads (costs over time, start range) need no index of their own.
  PRIMARY KEY(start_ns, trace_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS trace_stats_by_cost ON trace_stats(cost_usd) WHERE cost_usd IS NOT NULL;
CREATE INDEX IF NOT EXISTS trace_stats_loops ON trace_stats(start_ns) WHERE loop = 1;
CREATE INDEX IF NOT EXISTS trace_stats_by_user ON trace_stats(user, start_ns);
CREATE INDEX IF NOT EXISTS trace_stats_by_session ON trace_stats(session, start_ns);
)sql";

AggregateWriter::AggregateWriter(sqlite3* db, KeyTable& keys)
    : db_(db),
      keys_(keys),
      data_version_st_(db, "PRAGMA data_version"),
      get_agg_(db, "SELECT data FROM report_hours WHERE kind=?1 AND hour=?2 AND key=?3"),
      put_agg_(db, "INSERT OR REPLACE INTO report_hours(kind,hour,key,data) VALUES(?1,?2,?3,?4)"),
      drop_agg_(db, "DELETE FROM report_hours WHERE kind=?1 AND hour=?2 AND key=?3"),
      drop_stats_(db, "DELETE FROM trace_stats WHERE start_ns=?1 AND trace_id=?2"),
      drop_stats_any_start_(db, "DELETE FROM trace_stats WHERE trace_id=?1"),
      get_report_(db, "SELECT report FROM traces WHERE trace_id=?1"),
      // build_aggregates() runs in the 3 -> 4 migration too, on spans as schema 2 made them.
      stored_spans_(db, spans_of_trace_sql(false, spans_name_trace_id(db)).c_str()),
      put_stats_(db, "INSERT OR REPLACE INTO trace_stats(trace_id,start_ns,cost_usd,loop,user,session) VALUES", 6,
                 kStatsRowsPerInsert) {
  for (auto* st : {&data_version_st_, &get_agg_, &put_agg_, &drop_agg_, &put_stats_.rows(1), &drop_stats_, &drop_stats_any_start_, &get_report_,
                   &stored_spans_})
    if (!st->ok() && error_.empty()) error_ = sqlite_reason(db, sqlite3_errcode(db));
}

AggregateFacts aggregate_facts(const Trace& trace) {
  AggregateFacts a;
  a.facts = trace_facts(trace);
  a.spans = static_cast<std::int64_t>(trace.spans.size());
  a.loop = !loop_reason(a.facts, kAggregateLoopRepeats, kAggregateLoopModelCalls).empty();
  return a;
}

std::string AggregateWriter::add(std::string_view trace_id, const AggregateFacts& a) {
  if (!error_.empty()) return error_;
  if (a.spans == 0) return "";
  const TraceFacts& f = a.facts;
  add_trace(pending_, f, a.spans, 1);
  stats_.push_back({std::string(trace_id), f.start_ns, f.cost_usd, a.loop, f.parties.user, f.parties.session});
  return "";
}

std::string AggregateWriter::write_stats() {
  for (std::size_t first = 0; first < stats_.size(); first += put_stats_.max_rows()) {
    const std::size_t count = std::min(put_stats_.max_rows(), stats_.size() - first);
    sql::Stmt& st = put_stats_.rows(count);
    for (std::size_t r = 0; r < count; ++r) {
      const StatsRow& row = stats_[first + r];
      const int p = put_stats_.param(r);
      st.bind_ref(p, std::string_view(row.trace_id)).bind(p + 1, row.start_ns);
      if (row.cost_usd) st.bind(p + 2, *row.cost_usd);
      else st.bind_null(p + 2);
      st.bind(p + 3, row.loop ? 1 : 0)
          .bind_ref(p + 4, std::string_view(row.user))
          .bind_ref(p + 5, std::string_view(row.session));
    }
    if (!st.exec()) return sqlite_reason(db_, st.last_rc());
  }
  stats_.clear();
  return "";
}

std::string AggregateWriter::stored_trace(std::string_view trace_id, Trace& out, bool* found) {
  *found = false;
  out = Trace();
  out.trace_id = std::string(trace_id);
  get_report_.bind(1, trace_id);
  const int rc = get_report_.step();
  std::string why;
  if (rc == SQLITE_ROW) {
    *found = true;
    if (!get_report_.is_null(0)) {
      if (!decode_report_projection(get_report_.blob(0), keys_, out)) why = "a stored report projection does not decode";
      get_report_.reset();
      return why;
    }
  } else if (rc != SQLITE_DONE) {
    why = sqlite_reason(db_, rc);
  }
  get_report_.reset();
  // Stored before schema 3: no projection, the spans say the same.
  if (*found) why = read_spans(stored_spans_, out.trace_id, false, {}, keys_, out);
  return why;
}

std::string AggregateWriter::retract(std::string_view trace_id) {
  if (!error_.empty()) return error_;
  Trace old;
  bool found = false;
  if (std::string e = stored_trace(trace_id, old, &found); !e.empty() || !found) return e;
  UnixNanos start = 0;
  if (!old.spans.empty()) {
    const TraceFacts facts = trace_facts(old);
    start = facts.start_ns;
    add_trace(pending_, facts, static_cast<std::int64_t>(old.spans.size()), -1);
  }
  // Its row may still wait here (an earlier part in the same transaction), or be stored.
  const bool waiting = std::erase_if(stats_, [&](const StatsRow& row) { return row.trace_id == trace_id; }) > 0;
  // The stored row's key is the start computed from this same stored form (add() and the 3 -> 4
  // migration took it from the trace as stored); a stored row not found under it is looked for by
  // id alone (a scan, never expected) rather than left behind.
  drop_stats_.bind(1, start).bind(2, trace_id);
  if (!drop_stats_.exec()) return sqlite_reason(db_, drop_stats_.last_rc());
  if (sqlite3_changes(db_) == 0 && !waiting) {
    drop_stats_any_start_.bind(1, trace_id);
    if (!drop_stats_any_start_.exec()) return sqlite_reason(db_, drop_stats_any_start_.last_rc());
  }
  return "";
}

std::string AggregateWriter::flush() {
  if (!error_.empty()) return error_;
  std::string why = write_stats();
  stats_.clear();
  if (!why.empty()) {
    pending_.clear();
    return why;
  }
  for (auto& [k, delta] : pending_) {
    GroupAggregate row;
    if (auto kept = kept_.find(k); kept != kept_.end()) {
      row = std::move(kept->second);  // as stored (an absent row kept as all zero, as it reads)
    } else {
      get_agg_.bind(1, static_cast<int>(k.kind)).bind(2, k.hour).bind(3, std::string_view(k.key));
      const int rc = get_agg_.step();
      if (rc == SQLITE_ROW && !row.decode(get_agg_.blob(0))) why = "a stored aggregate does not decode";
      else if (rc != SQLITE_ROW && rc != SQLITE_DONE) why = sqlite_reason(db_, rc);
      get_agg_.reset();
      if (!why.empty()) break;
    }
    row.merge(delta);
    // A group every trace of which went away leaves no row behind.
    sql::Stmt& st = row.counts[GroupAggregate::kCalls] == 0 && row.counts[GroupAggregate::kTraces] == 0 &&
                            row.counts[GroupAggregate::kToolCalls] == 0
                        ? drop_agg_
                        : put_agg_;
    const std::string data = &st == &put_agg_ ? row.encode() : std::string();
    st.bind(1, static_cast<int>(k.kind)).bind(2, k.hour).bind_ref(3, std::string_view(k.key));
    if (&st == &put_agg_) put_agg_.bind_blob_ref(4, data);
    if (!st.exec()) {
      why = sqlite_reason(db_, st.last_rc());
      break;
    }
    // A dropped row reads back as a fresh one (not the rounding its sums were left with).
    if (keep_) written_.insert_or_assign(k, &st == &drop_agg_ ? GroupAggregate() : std::move(row));
  }
  pending_.clear();
  return why;
}

std::int64_t AggregateWriter::data_version() {
  const std::int64_t v = data_version_st_.step() == SQLITE_ROW ? data_version_st_.i64(0) : -1;
  data_version_st_.reset();
  return v;
}

std::string AggregateWriter::begin() {
  if (!error_.empty()) return error_;
  keep_ = true;
  written_.clear();
  const std::int64_t version = data_version();
  if (version < 0 || version != kept_version_ || sqlite3_total_changes64(db_) != kept_changes_) kept_.clear();
  return "";
}

void AggregateWriter::committed() {
  // Rows not written by this transaction are let go: what is kept is at most one batch's groups.
  kept_ = std::move(written_);
  written_.clear();
  kept_version_ = data_version();
  kept_changes_ = sqlite3_total_changes64(db_);
}

bool rekey_trace_stats(sqlite3* db, std::string* error) {
  // Schema 4's indexes go with the old table's name; the rows are copied in key order (appends).
  return sql::exec(db,
                   "ALTER TABLE trace_stats RENAME TO trace_stats_v4; DROP INDEX IF EXISTS trace_stats_by_time; "
                   "DROP INDEX IF EXISTS trace_stats_by_cost; DROP INDEX IF EXISTS trace_stats_loops; "
                   "DROP INDEX IF EXISTS trace_stats_by_user; DROP INDEX IF EXISTS trace_stats_by_session;",
                   error) &&
         sql::exec(db, kAggregateTables, error) &&
         sql::exec(db,
                   "INSERT INTO trace_stats(trace_id,start_ns,cost_usd,loop,user,session) "
                   "SELECT trace_id,start_ns,cost_usd,loop,user,session FROM trace_stats_v4 ORDER BY start_ns, trace_id; "
                   "DROP TABLE trace_stats_v4;",
                   error);
}

bool build_aggregates(sqlite3* db, std::string* error) {
  if (!sql::exec(db, kAggregateTables, error)) return false;
  KeyTable keys(db, /*writable=*/false);
  if (!keys.load(error)) return false;
  AggregateWriter writer(db, keys);
  if (!writer.error().empty()) return *error = writer.error(), false;
  sql::Stmt ids(db, "SELECT trace_id FROM traces ORDER BY start_ns");
  Trace trace;
  bool found = false;
  int rc;
  std::int64_t n = 0;
  while ((rc = ids.step()) == SQLITE_ROW) {
    const std::string id(ids.view(0));
    std::string e = writer.stored_trace(id, trace, &found);
    if (e.empty() && found) e = writer.add(id, aggregate_facts(trace));
    // Bounded memory: the gathered rows go to the table every few thousand traces.
    if (e.empty() && ++n % 5000 == 0) e = writer.flush();
    if (!e.empty()) return *error = e, false;
  }
  if (rc != SQLITE_DONE) return *error = sqlite_reason(db, rc), false;
  if (std::string e = writer.flush(); !e.empty()) return *error = e, false;
  return true;
}

std::string read_aggregates(sqlite3* db, std::int64_t first_hour, std::int64_t end_hour,
                            std::optional<AggregateKind> kind,
                            const std::function<void(AggregateKey&&, GroupAggregate&&)>& visit) {
  if (!kind) {
    for (int k = 0; k <= static_cast<int>(AggregateKind::kTool); ++k)
      if (std::string e = read_aggregates(db, first_hour, end_hour, static_cast<AggregateKind>(k), visit); !e.empty())
        return e;
    return "";
  }
  sql::Stmt st(db, "SELECT hour,key,data FROM report_hours WHERE kind=?1 AND hour>=?2 AND hour<?3");
  if (!st.ok()) return sqlite_reason(db, sqlite3_errcode(db));
  st.bind(1, static_cast<int>(*kind)).bind(2, first_hour).bind(3, end_hour);
  int rc;
  while ((rc = st.step()) == SQLITE_ROW) {
    GroupAggregate g;
    if (!g.decode(st.blob(2))) return "a stored aggregate does not decode";
    visit(AggregateKey{st.i64(0), *kind, std::string(st.view(1))}, std::move(g));
  }
  return rc == SQLITE_DONE ? "" : sqlite_reason(db, rc);
}

namespace {

std::string collect_ids(sqlite3* db, const char* sql_text, UnixNanos since, UnixNanos until, int limit,
                        std::vector<std::string>* ids) {
  sql::Stmt st(db, sql_text);
  if (!st.ok()) return sqlite_reason(db, sqlite3_errcode(db));
  st.bind(1, since).bind(2, until).bind(3, limit);
  int rc;
  while ((rc = st.step()) == SQLITE_ROW) ids->push_back(st.text(0));
  return rc == SQLITE_DONE ? "" : sqlite_reason(db, rc);
}

}  // namespace

std::string most_expensive_traces(sqlite3* db, UnixNanos since, UnixNanos until, int limit, std::vector<std::string>* ids) {
  return collect_ids(db,
                     "SELECT trace_id FROM trace_stats WHERE cost_usd IS NOT NULL AND start_ns>=?1 AND start_ns<?2 "
                     "ORDER BY cost_usd DESC, trace_id LIMIT ?3",
                     since, until, limit, ids);
}

std::string loop_traces(sqlite3* db, UnixNanos since, UnixNanos until, int limit, std::vector<std::string>* ids) {
  return collect_ids(db,
                     "SELECT trace_id FROM trace_stats WHERE loop=1 AND start_ns>=?1 AND start_ns<?2 "
                     "ORDER BY start_ns, trace_id LIMIT ?3",
                     since, until, limit, ids);
}

std::string trace_costs(sqlite3* db, UnixNanos since, UnixNanos until,
                        const std::function<void(UnixNanos start, double cost)>& visit) {
  sql::Stmt st(db, "SELECT start_ns, cost_usd FROM trace_stats WHERE start_ns>=?1 AND start_ns<?2 ORDER BY start_ns");
  if (!st.ok()) return sqlite_reason(db, sqlite3_errcode(db));
  st.bind(1, since).bind(2, until);
  int rc;
  while ((rc = st.step()) == SQLITE_ROW) visit(st.i64(0), st.is_null(1) ? 0.0 : st.dbl(1));
  return rc == SQLITE_DONE ? "" : sqlite_reason(db, rc);
}

std::string start_range(sqlite3* db, UnixNanos since, UnixNanos until, std::optional<std::pair<UnixNanos, UnixNanos>>* range) {
  sql::Stmt st(db, "SELECT MIN(start_ns), MAX(start_ns) FROM trace_stats WHERE start_ns>=?1 AND start_ns<?2");
  if (!st.ok()) return sqlite_reason(db, sqlite3_errcode(db));
  st.bind(1, since).bind(2, until);
  const int rc = st.step();
  if (rc != SQLITE_ROW) return sqlite_reason(db, rc);
  if (st.is_null(0)) range->reset();
  else *range = std::pair<UnixNanos, UnixNanos>(st.i64(0), st.i64(1));
  return "";
}

std::string traces_of(sqlite3* db, const char* column, std::string_view value, UnixNanos since, UnixNanos until,
                      bool newest_first, std::vector<std::string>* ids) {
  const std::string text = std::string("SELECT trace_id FROM trace_stats WHERE ") + column +
                           "=?3 AND start_ns>=?1 AND start_ns<?2 ORDER BY " +
                           (newest_first ? "start_ns DESC, trace_id DESC" : "start_ns, trace_id");
  sql::Stmt st(db, text.c_str());
  if (!st.ok()) return sqlite_reason(db, sqlite3_errcode(db));
  st.bind(1, since).bind(2, until).bind(3, value);
  int rc;
  while ((rc = st.step()) == SQLITE_ROW) ids->push_back(st.text(0));
  return rc == SQLITE_DONE ? "" : sqlite_reason(db, rc);
}

}  // namespace llmtap::exporting
