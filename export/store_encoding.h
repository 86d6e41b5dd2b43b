#pragma once
// A trace's store rows encoded before the store's SQLite thread sees it: the span attribute blobs,
// the report projection, the totals row, and what it adds to the aggregates (store_aggregates.h). Encoding is about half of the writer's CPU per span; done on
// the thread that hands the trace to the store (the trace builder's), the single SQLite thread is left
// with binding and B-tree work, so the store's sustained rate is what SQLite can insert.
// Key ids come only from SQLite (store_keys.h: two processes on one store agree on them), so a trace
// is encoded here only with keys the store has committed; one with a key not committed yet is left
// for the writer, which adds the key inside its transaction.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/span.h"
#include "export/span_codec.h"
#include "export/store_aggregates.h"
#include "export/store_writer.h"

namespace llmtap::exporting {

struct EncodedTrace {
  bool ready = false;                                       // false: the writer encodes the trace itself
  std::vector<std::pair<std::string, std::string>> spans;   // per span: attrs blob, content blob ("" = NULL)
  std::string report;                                       // report_projection.h's blob
  TraceTotals totals;
  std::string agents;                                       // totals.agents as a JSON array
  AggregateFacts facts;                                     // aggregate_facts() of the trace
  std::size_t bytes() const;
};

// A trace waiting in the store's queue, with its rows when they could be encoded.
struct QueuedTrace {
  Trace trace;
  EncodedTrace rows;
  std::size_t bytes = 0;  // counted against the queue's byte bound
};

// The key ids the store has committed, for encoders on other threads: an immutable map replaced
// (never changed) when the writer commits new keys.
class CommittedKeys {
 public:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  using Map = std::unordered_map<std::string, std::int64_t, Hash, std::equal_to<>>;

  std::shared_ptr<const Map> get() const;
  // The writer, after a commit: every key of DICT is committed now.
  void publish(const codec::KeyDictionary& dict);
  // An encoder met KEY, not committed yet: the writer adds it at its next chance (take_wanted), so
  // that only the traces queued until then are encoded on the SQLite thread.
  void want(std::string_view key);
  bool any_wanted() const { return any_wanted_.load(std::memory_order_relaxed); }
  std::vector<std::string> take_wanted();

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const Map> map_ = std::make_shared<Map>();
  std::size_t published_ = 0;
  std::vector<std::string> wanted_;  // bounded: distinct keys only, and keys are few
  std::atomic<bool> any_wanted_{false};
};

// "[\"a\",\"b\"]": the traces.agents column.
std::string agents_json(const std::vector<std::string>& agents);

// Encodes TRACE's rows with the committed KEYS into OUT; OUT.ready is false (and the key wanted) if a
// key is not committed yet.
void encode_trace_rows(const Trace& trace, CommittedKeys& keys, EncodedTrace& out);

}  // namespace llmtap::exporting
