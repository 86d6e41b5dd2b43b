// `llmtap pricing lookup MODEL [--json] [--pricing FILE]...`: which price-table entry a model name
// resolves to, by which rule, and its prices.
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "pricing/decimal_price.h"
#include "pricing/price_table.h"

namespace llmtap::cli {
namespace {

constexpr const char* kUsage =
    "Usage: llmtap pricing lookup MODEL [--json] [--pricing FILE]...\n"
    "       llmtap pricing info [--json] [--pricing FILE]...\n\n"
    "lookup  shows which price-table entry MODEL matches and by which rule (exact id, alias,\n"
    "        anchored regex, date suffix stripped, or unknown), with its prices in USD per 1M\n"
    "        tokens (per_request in USD). Exits 1 when the model is unknown.\n"
    "info    shows the table version, date, sources and notes.\n\n"
    "Options:\n"
    "  --json          machine-readable output\n"
    "  --pricing FILE  layer a price table over the embedded one (repeatable; later files win)\n"
    "  -h, --help      this help\n";

struct Options {
  std::string action;
  std::string model;
  bool json = false;
  std::vector<std::string> pricing_files;
};

// Returns 0 on success, else the exit code (after printing why).
int parse_args(const std::vector<std::string>& args, Options* o) {
  std::vector<std::string> positional;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return -1;
    } else if (a == "--json") {
      o->json = true;
    } else if (a == "--pricing" || a.rfind("--pricing=", 0) == 0) {
      if (a == "--pricing") {
        if (i + 1 >= args.size()) {
          std::fputs("llmtap pricing: --pricing needs a FILE\n", stderr);
          return 2;
        }
        o->pricing_files.push_back(args[++i]);
      } else {
        o->pricing_files.push_back(a.substr(std::string("--pricing=").size()));
      }
    } else if (!a.empty() && a[0] == '-') {
      std::fprintf(stderr, "llmtap pricing: unknown option '%s'\n%s", a.c_str(), kUsage);
      return 2;
    } else {
      positional.push_back(a);
    }
  }
  if (positional.empty()) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  o->action = positional[0];
  if (o->action == "lookup") {
    if (positional.size() != 2) {
      std::fputs("llmtap pricing lookup: expected exactly one MODEL\n", stderr);
      return 2;
    }
    o->model = positional[1];
  } else if (o->action == "info") {
    if (positional.size() != 1) {
      std::fputs("llmtap pricing info: takes no MODEL\n", stderr);
      return 2;
    }
  } else {
    std::fprintf(stderr, "llmtap pricing: unknown action '%s' (expected lookup or info)\n", o->action.c_str());
    return 2;
  }
  return 0;
}

nlohmann::ordered_json price_fields_json(const PriceFields& f) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  auto put = [&](const char* name, const std::optional<PicoUsd>& v, bool per_request = false) {
    if (v) j[name] = per_request ? format_usd(*v) : format_per_million(*v);
  };
  put("input", f.input);
  put("cached_input", f.cached_input);
  put("cache_write_5m", f.cache_write_5m);
  put("cache_write_1h", f.cache_write_1h);
  put("output", f.output);
  put("reasoning", f.reasoning);
  put("per_request", f.per_request, true);
  return j;
}

nlohmann::ordered_json tiers_json(const std::vector<ContextTier>& tiers) {
  nlohmann::ordered_json a = nlohmann::ordered_json::array();
  for (const auto& t : tiers) a.push_back({{"above_prompt_tokens", t.above_prompt_tokens}, {"prices", price_fields_json(t.prices)}});
  return a;
}

// The standard prices after fallbacks, so the user sees what a call would actually be billed.
nlohmann::ordered_json effective_json(const ResolvedPrices& r) {
  return {{"input", format_per_million(r.input)},
          {"cached_input", format_per_million(r.cached_input)},
          {"cache_write_5m", format_per_million(r.cache_write_5m)},
          {"cache_write_1h", format_per_million(r.cache_write_1h)},
          {"output", format_per_million(r.output)},
          {"reasoning", format_per_million(r.reasoning)},
          {"per_request", format_usd(r.per_request)}};
}

nlohmann::ordered_json match_json(const PriceTable& table, const ModelMatch& m) {
  nlohmann::ordered_json j = {{"model", m.query}, {"rule", match_rule_name(m.rule)}, {"table_version", table.version()}};
  if (!m.entry) return j;
  const PriceEntry& e = *m.entry;
  j["entry"] = e.id;
  j["matched_name"] = m.matched_name;
  j["matched_by"] = m.matched_by;
  if (!m.derived.empty()) j["derived"] = m.derived;
  j["provider"] = e.provider;
  j["aliases"] = e.aliases;
  if (!e.regex.empty()) {
    j["regex"] = e.regex;
    j["priority"] = e.priority;
  }
  if (!e.effective_from.empty()) j["effective_from"] = e.effective_from;
  if (!e.effective_until.empty()) j["effective_until"] = e.effective_until;
  j["prices"] = price_fields_json(e.prices);
  j["effective_prices"] = effective_json(PriceTable::resolve(e, 0, ""));
  if (!e.context_tiers.empty()) j["context_tiers"] = tiers_json(e.context_tiers);
  if (!e.service_tiers.empty()) {
    nlohmann::ordered_json st = nlohmann::ordered_json::object();
    for (const auto& [name, tier] : e.service_tiers) {
      st[name] = {{"prices", price_fields_json(tier.prices)}};
      if (!tier.context_tiers.empty()) st[name]["context_tiers"] = tiers_json(tier.context_tiers);
    }
    j["service_tiers"] = st;
  }
  if (!e.source.empty()) j["source"] = e.source;
  if (!e.note.empty()) j["note"] = e.note;
  return j;
}

void print_prices_line(const char* label, const nlohmann::ordered_json& p) {
  std::printf("  %-22s", label);
  bool first = true;
  for (auto it = p.begin(); it != p.end(); ++it) {
    std::printf("%s%s %s", first ? "" : ", ", it.key().c_str(), it->get<std::string>().c_str());
    first = false;
  }
  std::printf("\n");
}

void print_match_text(const nlohmann::ordered_json& j) {
  std::printf("model:          %s\n", j["model"].get<std::string>().c_str());
  std::printf("rule:           %s\n", j["rule"].get<std::string>().c_str());
  std::printf("entry:          %s (%s)\n", j["entry"].get<std::string>().c_str(), j["provider"].get<std::string>().c_str());
  std::printf("matched by:     %s", j["matched_by"].get<std::string>().c_str());
  if (j.contains("derived")) std::printf("  (after removing %s)", j["derived"].get<std::string>().c_str());
  std::printf("\n");
  if (!j["aliases"].empty()) {
    std::string a;
    for (const auto& x : j["aliases"]) a += (a.empty() ? "" : ", ") + x.get<std::string>();
    std::printf("aliases:        %s\n", a.c_str());
  }
  if (j.contains("regex")) std::printf("regex:          %s (priority %d)\n", j["regex"].get<std::string>().c_str(), j["priority"].get<int>());
  if (j.contains("effective_from") || j.contains("effective_until")) {
    std::printf("effective:      %s .. %s\n", j.value("effective_from", std::string("-")).c_str(),
                j.value("effective_until", std::string("-")).c_str());
  }
  std::printf("table version:  %s\n", j["table_version"].get<std::string>().c_str());
  std::printf("prices (USD per 1M tokens; per_request in USD; tiers list only the prices they change):\n");
  print_prices_line("standard", j["effective_prices"]);
  if (j.contains("context_tiers")) {
    for (const auto& t : j["context_tiers"]) {
      std::string label = "> " + std::to_string(t["above_prompt_tokens"].get<std::int64_t>()) + " prompt tok";
      print_prices_line(label.c_str(), t["prices"]);
    }
  }
  if (j.contains("service_tiers")) {
    for (auto it = j["service_tiers"].begin(); it != j["service_tiers"].end(); ++it) {
      print_prices_line(it.key().c_str(), (*it)["prices"]);
      if (it->contains("context_tiers")) {
        for (const auto& t : (*it)["context_tiers"]) {
          std::string label = it.key() + " > " + std::to_string(t["above_prompt_tokens"].get<std::int64_t>());
          print_prices_line(label.c_str(), t["prices"]);
        }
      }
    }
  }
  if (j.contains("source")) std::printf("source:         %s\n", j["source"].get<std::string>().c_str());
  if (j.contains("note")) std::printf("note:           %s\n", j["note"].get<std::string>().c_str());
}

int run_pricing(const std::vector<std::string>& args) {
  Options o;
  if (int rc = parse_args(args, &o); rc != 0) return rc < 0 ? 0 : rc;
  PriceTable table = PriceTable::load_default();
  for (const auto& f : o.pricing_files) {
    std::string error;
    if (!table.layer_file(f, &error)) {
      std::fprintf(stderr, "llmtap pricing: %s\n", error.c_str());
      return 2;
    }
  }
  if (o.action == "info") {
    nlohmann::ordered_json j = {{"table_version", table.version()}, {"table_date", table.date()},
                        {"entries", table.entries().size()}, {"notes", table.notes()}};
    j["sources"] = nlohmann::ordered_json::array();
    for (const auto& s : table.sources()) j["sources"].push_back({{"name", s.name}, {"date", s.date}, {"note", s.note}});
    if (o.json) {
      std::printf("%s\n", j.dump(2).c_str());
      return 0;
    }
    std::printf("table version: %s (%s), %zu entries\nsources:\n", table.version().c_str(), table.date().c_str(),
                table.entries().size());
    for (const auto& s : table.sources()) std::printf("  - %s [%s] %s\n", s.name.c_str(), s.date.c_str(), s.note.c_str());
    std::printf("notes:\n");
    for (const auto& n : table.notes()) std::printf("  - %s\n", n.c_str());
    return 0;
  }
  ModelMatch m = table.lookup(o.model);
  nlohmann::ordered_json j = match_json(table, m);
  if (!m.entry) {
    if (o.json) std::printf("%s\n", j.dump(2).c_str());
    std::fprintf(stderr,
                 "llmtap pricing: no price for model '%s' in table %s (no exact id or alias, no regex, no "
                 "unambiguous date-stripped base). Its calls get no cost; add it with --pricing FILE.\n",
                 o.model.c_str(), table.version().c_str());
    return 1;
  }
  if (o.json) {
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    print_match_text(j);
  }
  return 0;
}

CommandRegistration reg({"pricing", "look up the price-table entry and prices for a model", &run_pricing});

}  // namespace
}  // namespace llmtap::cli
