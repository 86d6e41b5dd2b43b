#pragma once
// The options every store-reading command shares (report, traces list/show/export): the time window,
// the workflow/agent filters, the data directory and a positive count. One parser, so that each
// command spells, checks and explains them the same way.
#include <optional>
#include <string>

#include "cli/option_cursor.h"
#include "common/clock.h"
#include "report/trace_source.h"

namespace llmtap::cli {

struct StoreQueryArgs {
  std::string since, until, data_dir;
  report::TraceSelection selection;
};

enum class OptionTaken { kNo, kYes, kError };

// Takes --since, --until, --workflow, --agent and --data-dir when the cursor is on one of them;
// kError (with *error set) when its value is missing.
OptionTaken take_store_query_option(OptionCursor& opt, StoreQueryArgs* args, std::string* error);

// The value of a count option (--limit, --top...): a whole number in [1, 1,000,000].
std::optional<long> take_count(OptionCursor& opt, std::string* error);

// Resolves --since/--until into args->selection (since falls back to default_since, "" = no lower
// bound; until to now). False with *error naming the option when one does not parse or the window is
// empty.
bool resolve_window(StoreQueryArgs* args, UnixNanos now, const std::string& default_since, std::string* error);

// <data dir>/traces.db, the data directory defaulting as every command documents; "" with *error
// when there is no data directory at all.
std::string store_path(const StoreQueryArgs& args, std::string* error);

// True when nothing was ever recorded at PATH (no store file). Commands that read the store then
// answer as for an empty store (exit 0) and say so on stderr, naming PATH, so that a mistyped
// --data-dir still shows: a fresh data directory is not an error.
bool no_store_yet(const std::string& path);
void say_no_store_yet(const char* command, const std::string& path);

}  // namespace llmtap::cli
