#include "pricing/price_table.h"

#include <algorithm>
#include <atomic>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <unordered_map>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "common/ascii.h"
#include "common/safe_regex.h"
#include "pricing/decimal_price.h"
#include "pricing/embedded_prices.h"
#include "pricing/model_name.h"

namespace llmtap {
namespace {

using nlohmann::json;

constexpr int kSchemaVersion = 1;

// ---- dates -------------------------------------------------------------------------------------

// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

std::optional<std::int64_t> parse_day(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
  }
  auto num = [&](std::size_t pos, std::size_t len) {
    int v = 0;
    for (std::size_t i = pos; i < pos + len; ++i) v = v * 10 + (s[i] - '0');
    return v;
  };
  int y = num(0, 4), m = num(5, 2), d = num(8, 2);
  if (m < 1 || m > 12 || d < 1 || d > 31) return std::nullopt;
  return days_from_civil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
}

std::int64_t day_of(UnixNanos t) {
  constexpr std::int64_t kNanosPerDay = 86400LL * 1000000000LL;
  return t >= 0 ? t / kNanosPerDay : -((-t + kNanosPerDay - 1) / kNanosPerDay);
}

// Effective window [from, until) in days; empty strings are open ends. Dates were validated at load.
bool in_window(const PriceEntry& e, std::int64_t day) {
  if (!e.effective_from.empty() && day < *parse_day(e.effective_from)) return false;
  if (!e.effective_until.empty() && day >= *parse_day(e.effective_until)) return false;
  return true;
}

bool windows_overlap(const PriceEntry& a, const PriceEntry& b) {
  constexpr std::int64_t kMin = INT64_MIN, kMax = INT64_MAX;
  std::int64_t a0 = a.effective_from.empty() ? kMin : *parse_day(a.effective_from);
  std::int64_t a1 = a.effective_until.empty() ? kMax : *parse_day(a.effective_until);
  std::int64_t b0 = b.effective_from.empty() ? kMin : *parse_day(b.effective_from);
  std::int64_t b1 = b.effective_until.empty() ? kMax : *parse_day(b.effective_until);
  return a0 < b1 && b0 < a1;
}

// ---- JSON schema -------------------------------------------------------------------------------

// Error context: "prices.json: model 'gpt-4o': field 'prices.input': ...".
struct Where {
  std::string origin;
  std::string model;
  std::string prefix(std::string_view field = {}) const {
    std::string s = origin;
    if (!model.empty()) s += ": model '" + model + "'";
    if (!field.empty()) s += ": field '" + std::string(field) + "'";
    return s + ": ";
  }
};

bool fail(std::string* error, const std::string& msg) {
  if (error) *error = msg;
  return false;
}

struct PriceFieldSpec {
  const char* name;
  std::optional<PicoUsd> PriceFields::*member;
  bool per_request;
};
constexpr PriceFieldSpec kPriceFields[] = {
    {"input", &PriceFields::input, false},
    {"cached_input", &PriceFields::cached_input, false},
    {"cache_write_5m", &PriceFields::cache_write_5m, false},
    {"cache_write_1h", &PriceFields::cache_write_1h, false},
    {"output", &PriceFields::output, false},
    {"reasoning", &PriceFields::reasoning, false},
    {"per_request", &PriceFields::per_request, true},
};

bool parse_prices(const json& j, const Where& w, const std::string& path, PriceFields* out, std::string* error) {
  if (!j.is_object()) return fail(error, w.prefix(path) + "must be an object of decimal strings");
  for (auto it = j.begin(); it != j.end(); ++it) {
    const PriceFieldSpec* spec = nullptr;
    for (const auto& s : kPriceFields) {
      if (it.key() == s.name) spec = &s;
    }
    const std::string field = path + "." + it.key();
    if (!spec) {
      return fail(error, w.prefix(field) +
                             "unknown price field (expected input, cached_input, cache_write_5m, cache_write_1h, "
                             "output, reasoning, per_request)");
    }
    if (!it->is_string()) {
      return fail(error, w.prefix(field) + "must be a decimal string such as \"2.50\" (JSON numbers are binary "
                                           "floating point and are refused)");
    }
    std::string why;
    auto v = spec->per_request ? parse_per_request_price(it->get<std::string>(), &why)
                               : parse_per_million_price(it->get<std::string>(), &why);
    if (!v) return fail(error, w.prefix(field) + why);
    out->*(spec->member) = *v;
  }
  return true;
}

bool parse_context_tiers(const json& j, const Where& w, const std::string& path, std::vector<ContextTier>* out,
                         std::string* error) {
  if (!j.is_array()) return fail(error, w.prefix(path) + "must be an array");
  out->clear();
  for (std::size_t i = 0; i < j.size(); ++i) {
    const std::string p = path + "[" + std::to_string(i) + "]";
    const json& t = j[i];
    if (!t.is_object()) return fail(error, w.prefix(p) + "must be an object");
    ContextTier tier;
    auto above = t.find("above_prompt_tokens");
    if (above == t.end() || !above->is_number_integer() || above->get<std::int64_t>() < 0) {
      return fail(error, w.prefix(p + ".above_prompt_tokens") + "must be a non-negative integer");
    }
    tier.above_prompt_tokens = above->get<std::int64_t>();
    auto prices = t.find("prices");
    if (prices == t.end()) return fail(error, w.prefix(p + ".prices") + "is required");
    if (!parse_prices(*prices, w, p + ".prices", &tier.prices, error)) return false;
    for (auto it = t.begin(); it != t.end(); ++it) {
      if (it.key() != "above_prompt_tokens" && it.key() != "prices") {
        return fail(error, w.prefix(p + "." + it.key()) + "unknown field");
      }
    }
    out->push_back(std::move(tier));
  }
  std::sort(out->begin(), out->end(),
            [](const ContextTier& a, const ContextTier& b) { return a.above_prompt_tokens < b.above_prompt_tokens; });
  return true;
}

bool get_string(const json& j, const char* key, const Where& w, std::string* out, std::string* error) {
  auto it = j.find(key);
  if (it == j.end()) return true;
  if (!it->is_string()) return fail(error, w.prefix(key) + "must be a string");
  *out = it->get<std::string>();
  return true;
}

// An entry as written in a file, plus which fields the file set (for per-field layering).
struct ParsedEntry {
  PriceEntry entry;
  std::set<std::string> present;                        // top-level keys the file set
  std::map<std::string, std::set<std::string>> tier_present;  // service tier -> keys set in it
};

bool parse_entry(const json& j, const std::string& origin, std::size_t index, ParsedEntry* out, std::string* error) {
  Where w{origin, ""};
  const std::string at = "models[" + std::to_string(index) + "]";
  if (!j.is_object()) return fail(error, w.prefix(at) + "must be an object");
  auto id = j.find("id");
  if (id == j.end() || !id->is_string() || id->get<std::string>().empty()) {
    return fail(error, w.prefix(at + ".id") + "is required and must be a non-empty string");
  }
  PriceEntry& e = out->entry;
  e.id = id->get<std::string>();
  w.model = e.id;
  static const std::set<std::string> kKeys = {"id",     "provider", "aliases",        "regex",          "priority",
                                              "prices", "context_tiers", "service_tiers", "effective_from",
                                              "effective_until", "source", "note"};
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!kKeys.count(it.key()) && it.key().rfind("_", 0) != 0) {  // "_comment" and friends are allowed
      return fail(error, w.prefix(it.key()) + "unknown field");
    }
    out->present.insert(it.key());
  }
  if (!get_string(j, "provider", w, &e.provider, error) || !get_string(j, "regex", w, &e.regex, error) ||
      !get_string(j, "source", w, &e.source, error) || !get_string(j, "note", w, &e.note, error) ||
      !get_string(j, "effective_from", w, &e.effective_from, error) ||
      !get_string(j, "effective_until", w, &e.effective_until, error)) {
    return false;
  }
  for (const char* k : {"effective_from", "effective_until"}) {
    const std::string& v = std::string_view(k) == "effective_from" ? e.effective_from : e.effective_until;
    if (!v.empty() && !parse_day(v)) return fail(error, w.prefix(k) + "must be a date YYYY-MM-DD");
  }
  if (!e.effective_from.empty() && !e.effective_until.empty() &&
      *parse_day(e.effective_from) >= *parse_day(e.effective_until)) {
    return fail(error, w.prefix("effective_until") + "must be after effective_from");
  }
  if (auto it = j.find("aliases"); it != j.end()) {
    if (!it->is_array()) return fail(error, w.prefix("aliases") + "must be an array of strings");
    for (const auto& a : *it) {
      if (!a.is_string() || a.get<std::string>().empty()) {
        return fail(error, w.prefix("aliases") + "must be an array of non-empty strings");
      }
      e.aliases.push_back(a.get<std::string>());
    }
  }
  if (auto it = j.find("priority"); it != j.end()) {
    if (!it->is_number_integer()) return fail(error, w.prefix("priority") + "must be an integer");
    e.priority = it->get<int>();
  }
  if (auto it = j.find("prices"); it != j.end()) {
    if (!parse_prices(*it, w, "prices", &e.prices, error)) return false;
  }
  if (auto it = j.find("context_tiers"); it != j.end()) {
    if (!parse_context_tiers(*it, w, "context_tiers", &e.context_tiers, error)) return false;
  }
  if (auto it = j.find("service_tiers"); it != j.end()) {
    if (!it->is_object()) return fail(error, w.prefix("service_tiers") + "must be an object keyed by tier name");
    for (auto t = it->begin(); t != it->end(); ++t) {
      const std::string tier = ascii_lower(t.key());
      const std::string p = "service_tiers." + t.key();
      if (tier != "batch" && tier != "flex" && tier != "priority") {
        return fail(error, w.prefix(p) + "unknown service tier (expected batch, flex or priority)");
      }
      if (!t->is_object()) return fail(error, w.prefix(p) + "must be an object");
      ServiceTierPrices& st = e.service_tiers[tier];
      for (auto f = t->begin(); f != t->end(); ++f) {
        if (f.key() == "prices") {
          if (!parse_prices(*f, w, p + ".prices", &st.prices, error)) return false;
        } else if (f.key() == "context_tiers") {
          if (!parse_context_tiers(*f, w, p + ".context_tiers", &st.context_tiers, error)) return false;
        } else {
          return fail(error, w.prefix(p + "." + f.key()) + "unknown field (expected prices, context_tiers)");
        }
        out->tier_present[tier].insert(f.key());
      }
    }
  }
  return true;
}

bool complete_entry(const PriceEntry& e, const std::string& origin, std::string* error) {
  Where w{origin, e.id};
  if (!e.prices.input) return fail(error, w.prefix("prices.input") + "is required");
  if (!e.prices.output) return fail(error, w.prefix("prices.output") + "is required");
  return true;
}

struct ParsedTable {
  std::string table_version;
  std::string date;
  std::vector<TableSource> sources;
  std::vector<std::string> notes;
  std::vector<ParsedEntry> entries;
};

bool parse_table(std::string_view text, const std::string& origin, ParsedTable* out, std::string* error) {
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return fail(error, origin + ": not valid JSON");
  Where w{origin, ""};
  if (!j.is_object()) return fail(error, origin + ": the top level must be a JSON object");
  auto sv = j.find("schema_version");
  if (sv == j.end() || !sv->is_number_integer()) {
    return fail(error, w.prefix("schema_version") + "is required (integer, currently " +
                           std::to_string(kSchemaVersion) + ")");
  }
  if (sv->get<std::int64_t>() != kSchemaVersion) {
    return fail(error, w.prefix("schema_version") + "unsupported version " + std::to_string(sv->get<std::int64_t>()) +
                           " (this llmtap reads " + std::to_string(kSchemaVersion) + ")");
  }
  static const std::set<std::string> kKeys = {"schema_version", "table_version", "table_date", "sources", "notes",
                                              "models"};
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!kKeys.count(it.key()) && it.key().rfind("_", 0) != 0) return fail(error, w.prefix(it.key()) + "unknown field");
  }
  if (!get_string(j, "table_version", w, &out->table_version, error) ||
      !get_string(j, "table_date", w, &out->date, error)) {
    return false;
  }
  if (auto it = j.find("sources"); it != j.end()) {
    if (!it->is_array()) return fail(error, w.prefix("sources") + "must be an array");
    for (const auto& s : *it) {
      if (!s.is_object()) return fail(error, w.prefix("sources") + "items must be objects");
      TableSource src;
      if (!get_string(s, "name", w, &src.name, error) || !get_string(s, "date", w, &src.date, error) ||
          !get_string(s, "note", w, &src.note, error)) {
        return false;
      }
      out->sources.push_back(std::move(src));
    }
  }
  if (auto it = j.find("notes"); it != j.end()) {
    if (!it->is_array()) return fail(error, w.prefix("notes") + "must be an array of strings");
    for (const auto& n : *it) {
      if (!n.is_string()) return fail(error, w.prefix("notes") + "must be an array of strings");
      out->notes.push_back(n.get<std::string>());
    }
  }
  auto models = j.find("models");
  if (models == j.end() || !models->is_array()) return fail(error, w.prefix("models") + "is required (an array)");
  for (std::size_t i = 0; i < models->size(); ++i) {
    ParsedEntry pe;
    if (!parse_entry((*models)[i], origin, i, &pe, error)) return false;
    out->entries.push_back(std::move(pe));
  }
  return true;
}

// Per-field merge of a user entry into an existing one.
void merge_entry(PriceEntry& base, const ParsedEntry& over) {
  const PriceEntry& o = over.entry;
  auto has = [&](const char* k) { return over.present.count(k) > 0; };
  if (has("provider")) base.provider = o.provider;
  if (has("regex")) base.regex = o.regex;
  if (has("priority")) base.priority = o.priority;
  if (has("effective_from")) base.effective_from = o.effective_from;
  if (has("effective_until")) base.effective_until = o.effective_until;
  if (has("source")) base.source = o.source;
  if (has("note")) base.note = o.note;
  for (const auto& a : o.aliases) {
    if (std::find(base.aliases.begin(), base.aliases.end(), a) == base.aliases.end()) base.aliases.push_back(a);
  }
  base.prices.overlay(o.prices);
  if (has("context_tiers")) base.context_tiers = o.context_tiers;
  for (const auto& [tier, st] : o.service_tiers) {
    ServiceTierPrices& dst = base.service_tiers[tier];
    dst.prices.overlay(st.prices);
    auto tp = over.tier_present.find(tier);
    if (tp != over.tier_present.end() && tp->second.count("context_tiers")) dst.context_tiers = st.context_tiers;
  }
}

}  // namespace

// ---- PriceFields -------------------------------------------------------------------------------

void PriceFields::overlay(const PriceFields& over) {
  for (const auto& s : kPriceFields) {
    if (over.*(s.member)) this->*(s.member) = over.*(s.member);
  }
}

const char* match_rule_name(MatchRule rule) {
  switch (rule) {
    case MatchRule::kExact: return "exact";
    case MatchRule::kAlias: return "alias";
    case MatchRule::kRegex: return "regex";
    case MatchRule::kDateStripped: return "date_stripped";
    case MatchRule::kUnknown: return "unknown";
  }
  return "unknown";
}

// ---- table state -------------------------------------------------------------------------------

struct PriceTable::Data {
  std::string table_version;
  std::string date;
  std::vector<std::string> layers;
  std::vector<TableSource> sources;
  std::vector<std::string> notes;
  std::vector<PriceEntry> entries;

  // Derived index, rebuilt after every load/layer.
  std::unordered_map<std::string, std::vector<std::size_t>> by_name;      // lower id/alias -> entries
  std::unordered_map<std::string, std::vector<std::size_t>> by_stripped;  // date-stripped id/alias -> entries
  struct Pattern {
    std::size_t entry;
    std::shared_ptr<const re2::RE2> re;  // shared: Data is copied when a layer is added
  };
  std::vector<Pattern> patterns;  // best first: priority desc, then pattern length desc

  bool rebuild_index(const std::string& origin, std::string* error);
};

bool PriceTable::Data::rebuild_index(const std::string& origin, std::string* error) {
  by_name.clear();
  by_stripped.clear();
  patterns.clear();
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const PriceEntry& e = entries[i];
    std::vector<std::string> names = {ascii_lower(e.id)};
    for (const auto& a : e.aliases) names.push_back(ascii_lower(a));
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    for (const auto& n : names) {
      auto& list = by_name[n];
      for (std::size_t other : list) {
        if (windows_overlap(entries[other], e)) {
          return fail(error, origin + ": model name '" + n + "' is claimed by both '" + entries[other].id + "' and '" +
                                 e.id + "' with overlapping effective dates");
        }
      }
      list.push_back(i);
      if (auto base = strip_date_suffix(n)) {
        auto& s = by_stripped[*base];
        if (std::find(s.begin(), s.end(), i) == s.end()) s.push_back(i);
      }
    }
    if (!e.regex.empty()) {
      std::string why;
      auto re = compile_regex(e.regex, {.case_insensitive = true}, &why);
      if (!re) return fail(error, Where{origin, e.id}.prefix("regex") + why);
      patterns.push_back({i, std::move(re)});
    }
  }
  std::stable_sort(patterns.begin(), patterns.end(), [&](const Pattern& a, const Pattern& b) {
    const PriceEntry& ea = entries[a.entry];
    const PriceEntry& eb = entries[b.entry];
    if (ea.priority != eb.priority) return ea.priority > eb.priority;
    return ea.regex.size() > eb.regex.size();
  });
  return true;
}

struct PriceTable::UnknownTracker {
  std::atomic<std::uint64_t> calls{0};
  mutable std::mutex mu;
  std::set<std::string> warned;
};

PriceTable::PriceTable() : data_(std::make_unique<Data>()), unknown_(std::make_unique<UnknownTracker>()) {}
PriceTable::~PriceTable() = default;
PriceTable::PriceTable(PriceTable&&) noexcept = default;
PriceTable& PriceTable::operator=(PriceTable&&) noexcept = default;

std::optional<PriceTable> PriceTable::from_json(std::string_view json_text, std::string_view origin_sv,
                                                std::string* error) {
  const std::string origin(origin_sv);
  ParsedTable parsed;
  if (!parse_table(json_text, origin, &parsed, error)) return std::nullopt;
  if (parsed.table_version.empty()) {
    fail(error, Where{origin, ""}.prefix("table_version") + "is required for a full table");
    return std::nullopt;
  }
  PriceTable t;
  t.data_->table_version = parsed.table_version;
  t.data_->date = parsed.date;
  t.data_->sources = std::move(parsed.sources);
  t.data_->notes = std::move(parsed.notes);
  for (auto& pe : parsed.entries) {
    if (!complete_entry(pe.entry, origin, error)) return std::nullopt;
    t.data_->entries.push_back(std::move(pe.entry));
  }
  if (!t.data_->rebuild_index(origin, error)) return std::nullopt;
  return t;
}

PriceTable PriceTable::load_default() {
  std::string error;
  auto t = from_json(embedded_prices_json(), "<embedded prices.json>", &error);
  if (!t) {
    spdlog::error("pricing: the embedded price table failed to load ({}); every model will be unpriced", error);
    PriceTable empty;
    empty.data_->table_version = "none";
    return empty;
  }
  return std::move(*t);
}

std::optional<PriceTable> PriceTable::load(const std::vector<std::string>& layer_files, std::string* error) {
  PriceTable t = load_default();
  for (const auto& f : layer_files) {
    if (!t.layer_file(f, error)) return std::nullopt;
  }
  return t;
}

bool PriceTable::layer_file(const std::string& path, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(error, path + ": cannot open price table file");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return fail(error, path + ": read error");
  return layer_json(ss.str(), path, error);
}

bool PriceTable::layer_json(std::string_view json_text, std::string_view origin_sv, std::string* error) {
  const std::string origin(origin_sv);
  ParsedTable parsed;
  if (!parse_table(json_text, origin, &parsed, error)) return false;
  // Work on a copy so a failing layer leaves the table untouched.
  std::vector<PriceEntry> entries = data_->entries;
  for (const auto& pe : parsed.entries) {
    const std::string id = ascii_lower(pe.entry.id);
    bool merged = false;
    for (auto& e : entries) {
      if (ascii_lower(e.id) != id) continue;
      // With effective dates in the layer, override only the entry with the same start date.
      if (pe.present.count("effective_from") && e.effective_from != pe.entry.effective_from) continue;
      merge_entry(e, pe);
      merged = true;
    }
    if (!merged) {
      if (!complete_entry(pe.entry, origin, error)) return false;
      entries.push_back(pe.entry);
    }
    // A later layer wins a name: aliases it claims leave other entries.
    for (const auto& alias : pe.entry.aliases) {
      const std::string a = ascii_lower(alias);
      for (auto& e : entries) {
        if (ascii_lower(e.id) == id) continue;
        std::erase_if(e.aliases, [&](const std::string& x) { return ascii_lower(x) == a; });
      }
    }
  }
  auto next = std::make_unique<Data>(*data_);
  next->entries = std::move(entries);
  if (!next->rebuild_index(origin, error)) return false;
  std::string name = parsed.table_version;
  if (name.empty()) {
    std::size_t slash = origin.rfind('/');
    name = slash == std::string::npos ? origin : origin.substr(slash + 1);
  }
  next->layers.push_back(name);
  for (auto& s : parsed.sources) next->sources.push_back(std::move(s));
  for (auto& n : parsed.notes) next->notes.push_back(std::move(n));
  data_ = std::move(next);
  return true;
}

// ---- matching ----------------------------------------------------------------------------------

ModelMatch PriceTable::lookup(std::string_view model, UnixNanos at) const {
  ModelMatch m;
  m.query = std::string(model);
  const std::int64_t day = day_of(at == 0 ? now_ns() : at);
  const Data& d = *data_;
  auto effective = [&](const std::vector<std::size_t>& list) {
    std::vector<std::size_t> out;
    for (std::size_t i : list) {
      if (in_window(d.entries[i], day)) out.push_back(i);
    }
    return out;
  };
  const auto forms = model_name_forms(model);

  // 1. Exact id or alias.
  for (const auto& f : forms) {
    auto it = d.by_name.find(f.name);
    if (it == d.by_name.end()) continue;
    auto hits = effective(it->second);
    if (hits.empty()) continue;
    const PriceEntry& e = d.entries[hits.front()];  // the index forbids overlapping claims
    m.rule = ascii_lower(e.id) == f.name ? MatchRule::kExact : MatchRule::kAlias;
    m.entry = &e;
    m.matched_name = f.name;
    m.matched_by = f.name;
    m.derived = f.derived;
    return m;
  }
  // 2. Anchored regex: regex_match must consume the whole name.
  for (const auto& f : forms) {
    for (const auto& p : d.patterns) {
      const PriceEntry& e = d.entries[p.entry];
      if (!in_window(e, day) || !re2::RE2::FullMatch(f.name, *p.re)) continue;
      m.rule = MatchRule::kRegex;
      m.entry = &e;
      m.matched_name = f.name;
      m.matched_by = e.regex;
      m.derived = f.derived;
      return m;
    }
  }
  // 3. Date suffix stripped, only if exactly one entry answers to the base name (by its own name
  //    or through one of its dated snapshots): otherwise we would be guessing between prices.
  for (const auto& f : forms) {
    auto base = strip_date_suffix(f.name);
    if (!base) continue;
    std::vector<std::size_t> cands;
    if (auto it = d.by_name.find(*base); it != d.by_name.end()) cands = effective(it->second);
    if (auto it = d.by_stripped.find(*base); it != d.by_stripped.end()) {
      for (std::size_t i : effective(it->second)) {
        if (std::find(cands.begin(), cands.end(), i) == cands.end()) cands.push_back(i);
      }
    }
    if (cands.size() != 1) continue;
    m.rule = MatchRule::kDateStripped;
    m.entry = &d.entries[cands.front()];
    m.matched_name = *base;
    m.matched_by = *base;
    m.derived = f.derived;
    return m;
  }
  return m;
}

// ---- arithmetic --------------------------------------------------------------------------------

ResolvedPrices PriceTable::resolve(const PriceEntry& entry, std::int64_t prompt_tokens, std::string_view service_tier) {
  ResolvedPrices r;
  PriceFields f = entry.prices;
  const std::vector<ContextTier>* tiers = &entry.context_tiers;
  const std::string tier = ascii_lower(service_tier);
  if (auto it = entry.service_tiers.find(tier); it != entry.service_tiers.end()) {
    f.overlay(it->second.prices);
    tiers = &it->second.context_tiers;
    r.service_tier = tier;
  }
  const ContextTier* applied = nullptr;
  for (const auto& t : *tiers) {
    if (prompt_tokens > t.above_prompt_tokens) applied = &t;  // ascending: the last one passed wins
  }
  if (applied) {
    f.overlay(applied->prices);
    r.context_tier_above = applied->above_prompt_tokens;
  }
  // Fallbacks for prices the table leaves out (documented in pricing/README.md): cache reads and
  // writes at the input price (providers without a cache surcharge), 1h writes at the 5m price,
  // reasoning at the output price, no per-request fee.
  r.input = f.input.value_or(0);
  r.output = f.output.value_or(0);
  r.cached_input = f.cached_input.value_or(r.input);
  r.cache_write_5m = f.cache_write_5m.value_or(r.input);
  r.cache_write_1h = f.cache_write_1h.value_or(r.cache_write_5m);
  r.reasoning = f.reasoning.value_or(r.output);
  r.per_request = f.per_request.value_or(0);
  return r;
}

std::optional<Cost> PriceTable::cost_of(const Usage& u, const ResolvedPrices& p) {
  using Wide = __int128;
  const std::int64_t buckets[] = {u.input_uncached, u.cache_read, u.cache_write_5m, u.cache_write_1h, u.output,
                                  u.reasoning};
  for (std::int64_t b : buckets) {
    if (b < 0) return std::nullopt;
  }
  Wide prompt = Wide(u.input_uncached) * p.input + Wide(u.cache_read) * p.cached_input +
                Wide(u.cache_write_5m) * p.cache_write_5m + Wide(u.cache_write_1h) * p.cache_write_1h + p.per_request;
  Wide completion = Wide(u.output) * p.output + Wide(u.reasoning) * p.reasoning;
  constexpr Wide kMax = INT64_MAX;
  if (prompt > kMax || completion > kMax || prompt + completion > kMax) return std::nullopt;
  return Cost{static_cast<PicoUsd>(prompt), static_cast<PicoUsd>(completion)};
}

PricedCall PriceTable::price(const ModelCall& call) const {
  PricedCall out;
  out.table_version = version();
  const UnixNanos at = call.timings.request_start;
  // The response names the model that actually ran (often a dated snapshot); the request's name is
  // the fallback when the response has none or names something the table does not know.
  const std::string& primary = call.response_model.empty() ? call.request_model : call.response_model;
  ModelMatch m = lookup(primary, at);
  if (!m.entry && !call.response_model.empty() && !call.request_model.empty()) m = lookup(call.request_model, at);
  out.match_rule = match_rule_name(m.rule);
  if (!m.entry) {
    unknown_->calls.fetch_add(1, std::memory_order_relaxed);
    bool first = false;
    {
      std::lock_guard<std::mutex> lock(unknown_->mu);
      first = unknown_->warned.insert(primary).second;
    }
    if (first) {
      spdlog::warn("pricing: no price for model '{}' in table {}; its calls carry no cost (add it with --pricing FILE)",
                   primary, out.table_version);
    }
    return out;
  }
  out.entry_id = m.entry->id;
  if (!call.usage.present) return out;  // nothing reported: no cost rather than a guessed one
  ResolvedPrices p = resolve(*m.entry, call.usage.input_total(), call.service_tier);
  out.service_tier = p.service_tier;
  out.long_context = p.context_tier_above >= 0;
  out.cost = cost_of(call.usage, p);
  if (!out.cost) spdlog::warn("pricing: usage of a '{}' call is negative or overflows; no cost", m.entry->id);
  return out;
}

std::string PriceTable::version() const {
  std::string v = data_->table_version;
  for (const auto& l : data_->layers) v += "+" + l;
  return v;
}
const std::string& PriceTable::date() const { return data_->date; }
const std::vector<TableSource>& PriceTable::sources() const { return data_->sources; }
const std::vector<std::string>& PriceTable::notes() const { return data_->notes; }
const std::vector<PriceEntry>& PriceTable::entries() const { return data_->entries; }

std::uint64_t PriceTable::unknown_model_calls() const { return unknown_->calls.load(std::memory_order_relaxed); }

std::vector<std::string> PriceTable::unknown_models() const {
  std::lock_guard<std::mutex> lock(unknown_->mu);
  return {unknown_->warned.begin(), unknown_->warned.end()};
}

}  // namespace llmtap
