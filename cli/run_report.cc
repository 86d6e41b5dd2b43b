#include "cli/run_report.h"

#include <algorithm>

#include "common/terminal_text.h"
#include "export/sqlite_store.h"
#include "export/tree_renderer.h"

namespace llmtap::cli {

namespace {

std::int64_t int_attr(const Span& s, std::string_view key) {
  const AttrValue* v = s.find(key);
  if (!v) return 0;
  if (auto* i = std::get_if<std::int64_t>(v)) return *i;
  if (auto* d = std::get_if<double>(v)) return static_cast<std::int64_t>(*d);
  return 0;
}

std::optional<double> double_attr(const Span& s, std::string_view key) {
  const AttrValue* v = s.find(key);
  if (!v) return std::nullopt;
  if (auto* d = std::get_if<double>(v)) return *d;
  if (auto* i = std::get_if<std::int64_t>(v)) return static_cast<double>(*i);
  return std::nullopt;
}

}  // namespace

CostSummary summarize_costs(const std::vector<Trace>& traces) {
  CostSummary s;
  for (const auto& t : traces)
    for (const auto& span : t.spans) {
      if (span.kind != SpanKind::kGeneration) continue;
      ++s.generations;
      s.input_tokens += int_attr(span, "gen_ai.usage.input_tokens");
      s.output_tokens += int_attr(span, "gen_ai.usage.output_tokens");
      s.cached_tokens += int_attr(span, "gen_ai.usage.cache_read.input_tokens");
      s.reasoning_tokens += int_attr(span, "gen_ai.usage.reasoning.output_tokens");
      if (auto c = double_attr(span, "llm.cost.total")) {
        s.cost_usd = s.cost_usd.value_or(0.0) + *c;
      } else {
        ++s.unpriced_generations;
      }
    }
  return s;
}

void print_run_report(FILE* out, const std::vector<Trace>& traces, const std::string& store_path,
                      const std::vector<std::string>& exported_ids) {
  exporting::TreeRenderer renderer;
  std::size_t total = std::max(traces.size(), exported_ids.size());
  std::fprintf(out, "\nllmtap: %zu trace%s\n", total, total == 1 ? "" : "s");
  if (traces.size() < exported_ids.size()) {
    std::fprintf(out, "(trees are shown for traces in the local store; add --export sqlite to keep them)\n");
    for (const auto& id : exported_ids) {
      bool shown = false;
      for (const auto& t : traces) shown |= t.trace_id == id;
      if (!shown) std::fprintf(out, "trace %s (exported)\n", terminal_safe(id).c_str());
    }
  }
  for (const auto& t : traces) {
    std::string tree = renderer.render_text(t);
    if (!tree.empty() && tree.back() != '\n') tree += '\n';
    std::fprintf(out, "\ntrace %s\n%s", terminal_safe(t.trace_id).c_str(), tree.c_str());
  }
  if (traces.empty() && !exported_ids.empty()) return;  // nothing local to sum
  CostSummary s = summarize_costs(traces);
  std::fprintf(out, "\ncost: %s over %lld model call%s; tokens: %lld in (%lld cached), %lld out (%lld reasoning)\n",
               s.cost_usd ? exporting::TreeRenderer::format_cost(*s.cost_usd).c_str() : "n/a",
               static_cast<long long>(s.generations), s.generations == 1 ? "" : "s",
               static_cast<long long>(s.input_tokens), static_cast<long long>(s.cached_tokens),
               static_cast<long long>(s.output_tokens), static_cast<long long>(s.reasoning_tokens));
  if (s.unpriced_generations)
    std::fprintf(out, "      %lld call%s used a model missing from the price table (no cost recorded)\n",
                 static_cast<long long>(s.unpriced_generations), s.unpriced_generations == 1 ? "" : "s");
  if (!store_path.empty())
    std::fprintf(out, "store: %s  (llmtap traces list | llmtap traces show TRACE_ID)\n", terminal_safe(store_path).c_str());
}

std::vector<Trace> load_traces(const std::string& store_path, const std::vector<std::string>& trace_ids,
                               std::string* error) {
  std::vector<Trace> out;
  if (store_path.empty() || trace_ids.empty()) return out;
  auto reader = exporting::TraceStoreReader::open(store_path, error);
  if (!reader) return out;
  for (const auto& id : trace_ids)
    if (auto t = reader->get(id)) out.push_back(std::move(*t));
  return out;
}

}  // namespace llmtap::cli
