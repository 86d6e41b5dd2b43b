#pragma once
// One span = one row of the spans table (schema 2): its fields as columns, its attributes encoded
// (span_codec.h) in two blobs: `attrs`, and `content` for the large captured content (prompts,
// outputs, system instructions, tool results), which a report never reads.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/span.h"
#include "export/sqlite_util.h"
#include "export/store_keys.h"

namespace llmtap::exporting {

// Attributes a query may leave unread; kept in the `content` blob.
const std::vector<std::string>& content_keys();
bool is_content_key(std::string_view key);

// Encodes SPAN's attributes into ATTRS and CONTENT (cleared first); false if a key id could not be
// assigned.
bool encode_span_attributes(const Span& span, KeyTable& keys, std::string& attrs, std::string& content);
// The same with key ids from KEY_ID (-1: not known, encoding fails).
bool encode_span_attributes(const Span& span, const std::function<std::int64_t(std::string_view)>& key_id,
                            std::string& attrs, std::string& content);

// "SELECT ... FROM spans WHERE <the spans of trace id ?1> ORDER BY start_ns, seq", with the content
// column when WITH_CONTENT. Schema 6 finds them by the trace's row (spans.trace_row); BY_TRACE_ID
// reads a store whose spans still name their trace id (schemas 2-5, during their migrations).
std::string spans_of_trace_sql(bool with_content, bool by_trace_id = false);
// true when DB's spans name their trace id (a store not yet at schema 6).
bool spans_name_trace_id(sqlite3* db);

// Steps SPANS (prepared from spans_of_trace_sql(WITH_CONTENT), bound to TRACE_ID) and appends the
// spans to OUT (root first, then start order), leaving out attributes named in SKIP. Unknown key ids
// reload KEYS once. "" or the error (an SQLite error, or a blob that does not decode).
std::string read_spans(sql::Stmt& spans, const std::string& trace_id, bool with_content,
                       const std::vector<std::string>& skip, KeyTable& keys, Trace& out);

// "SELECT ... FROM span_events WHERE trace_id=?1 ..." for read_events.
const char* events_of_trace_sql();
// Steps EVENTS (prepared from events_of_trace_sql()) for OUT's trace and attaches each event to its
// span. "" or the error.
std::string read_events(sql::Stmt& events, Trace& out);

}  // namespace llmtap::exporting
