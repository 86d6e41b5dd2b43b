#include "cli/store_query_args.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "common/data_dir.h"
#include "export/make_exporters.h"
#include "report/time_window.h"

namespace llmtap::cli {

OptionTaken take_store_query_option(OptionCursor& opt, StoreQueryArgs* args, std::string* error) {
  const std::string& a = opt.name();
  std::string* slot = a == "--since"      ? &args->since
                      : a == "--until"    ? &args->until
                      : a == "--data-dir" ? &args->data_dir
                      : a == "--workflow" ? &args->selection.workflow
                      : a == "--agent"    ? &args->selection.agent
                                          : nullptr;
  if (!slot) return OptionTaken::kNo;
  if (!opt.value(slot) || slot->empty()) {
    *error = a + " needs a value";
    return OptionTaken::kError;
  }
  return OptionTaken::kYes;
}

std::optional<long> take_count(OptionCursor& opt, std::string* error) {
  std::string v;
  if (!opt.value(&v)) {
    *error = opt.name() + " needs a number";
    return std::nullopt;
  }
  char* end = nullptr;
  long n = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end || n <= 0 || n > 1'000'000) {
    *error = opt.name() + " needs a whole number from 1 to 1000000, not '" + v + "'";
    return std::nullopt;
  }
  return n;
}

bool resolve_window(StoreQueryArgs* args, UnixNanos now, const std::string& default_since, std::string* error) {
  const std::string& since = args->since.empty() ? default_since : args->since;
  std::string why;
  if (!since.empty()) {
    auto t = report::parse_time_point(since, now, &why);
    if (!t) return *error = "--since: " + why, false;
    args->selection.since = *t;
  }
  args->selection.until = now;
  if (!args->until.empty()) {
    auto t = report::parse_time_point(args->until, now, &why);
    if (!t) return *error = "--until: " + why, false;
    args->selection.until = *t;
  }
  if (args->selection.until <= args->selection.since)
    return *error = "the window is empty: --until must be later than --since", false;
  return true;
}

std::string store_path(const StoreQueryArgs& args, std::string* error) {
  std::string dir = args.data_dir.empty() ? default_data_dir() : args.data_dir;
  if (dir.empty()) {
    *error = no_data_dir_message();
    return "";
  }
  return exporting::store_path_in(dir);
}

bool no_store_yet(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) != 0 && errno == ENOENT;
}

void say_no_store_yet(const char* command, const std::string& path) {
  std::fprintf(stderr, "llmtap %s: no trace store at %s yet (nothing recorded: run `llmtap proxy` or `llmtap run` first)\n",
               command, path.c_str());
}

}  // namespace llmtap::cli
