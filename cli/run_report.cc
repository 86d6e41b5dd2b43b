#include "cli/run_report.h"

#include <algorithm>

#include "export/redactor.h"
#include "common/terminal_text.h"
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

void CostSummary::add(const Trace& trace) {
  for (const auto& span : trace.spans) {
    if (span.kind != SpanKind::kGeneration) continue;
    ++generations;
    input_tokens += int_attr(span, "gen_ai.usage.input_tokens");
    output_tokens += int_attr(span, "gen_ai.usage.output_tokens");
    cached_tokens += int_attr(span, "gen_ai.usage.cache_read.input_tokens");
    reasoning_tokens += int_attr(span, "gen_ai.usage.reasoning.output_tokens");
    if (auto c = double_attr(span, "llm.cost.total")) {
      cost_usd = cost_usd.value_or(0.0) + *c;
    } else {
      ++unpriced_generations;
    }
  }
}

CostSummary summarize_costs(const std::vector<Trace>& traces) {
  CostSummary s;
  for (const auto& t : traces) s.add(t);
  return s;
}

namespace {

// The trace as the tree needs it: prompts, outputs and tool arguments dropped. *BYTES: its rough size.
Trace tree_copy(const Trace& trace, std::size_t* bytes) {
  Trace out;
  out.trace_id = trace.trace_id;
  *bytes = sizeof(Trace) + out.trace_id.size();
  out.spans.reserve(trace.spans.size());
  for (const auto& s : trace.spans) {
    Span c = s;
    std::erase_if(c.attributes, [](const Attribute& a) { return exporting::is_content_attribute(a.key); });
    *bytes += sizeof(Span) + c.trace_id.size() + c.span_id.size() + c.parent_span_id.size() + c.name.size() +
              c.status_message.size();
    for (const auto& a : c.attributes) {
      *bytes += sizeof(Attribute) + a.key.size();
      if (auto* str = std::get_if<std::string>(&a.value)) *bytes += str->size();
      if (auto* list = std::get_if<std::vector<std::string>>(&a.value))
        for (const auto& e : *list) *bytes += sizeof(std::string) + e.size();
    }
    out.spans.push_back(std::move(c));
  }
  return out;
}

}  // namespace

void RunTraces::on_trace(const Trace& trace) {
  if (trace.spans.empty()) return;
  if (max_kept_bytes_ == 0) {  // no report: the count is all that is read
    std::lock_guard lock(mu_);
    ++s_.total;
    return;
  }
  std::size_t bytes = 0;
  std::optional<Trace> copy = tree_copy(trace, &bytes);
  std::lock_guard lock(mu_);
  ++s_.total;
  // A continued trace comes again with its root re-emitted (same span id): one workflow, one tree.
  for (const auto& span : trace.spans)
    if (span.kind == SpanKind::kWorkflow && (seen_roots_.size() >= kMaxTrackedIds || seen_roots_.insert(span.span_id).second))
      ++s_.workflows;
  if (seen_ids_.size() >= kMaxTrackedIds || seen_ids_.insert(trace.trace_id).second) ++s_.distinct_ids;
  s_.cost.add(trace);
  if (auto k = kept_index_.find(trace.trace_id); copy && k != kept_index_.end() && kept_bytes_ + bytes <= max_kept_bytes_) {
    kept_bytes_ += bytes;
    merge_part(s_.kept[k->second], std::move(*copy));
  } else if (copy && kept_bytes_ + bytes <= max_kept_bytes_) {
    kept_index_.emplace(trace.trace_id, s_.kept.size());
    kept_bytes_ += bytes;
    s_.kept.push_back(std::move(*copy));
  } else if (s_.not_kept_ids.size() < kMaxListedIds) {
    s_.not_kept_ids.push_back(trace.trace_id);
  } else {
    ++s_.not_listed;
  }
}

void RunTraces::merge_part(Trace& kept, Trace part) {
  // Spans with the same id replace the earlier version (the later one is complete); others join.
  for (auto& span : part.spans) {
    auto same = std::find_if(kept.spans.begin(), kept.spans.end(), [&](const Span& s) { return s.span_id == span.span_id; });
    if (same != kept.spans.end())
      *same = std::move(span);
    else
      kept.spans.push_back(std::move(span));
  }
}

RunTraces::Snapshot RunTraces::snapshot() const {
  std::lock_guard lock(mu_);
  return s_;
}

std::size_t RunTraces::total() const {
  std::lock_guard lock(mu_);
  return s_.total;
}

void print_run_report(FILE* out, const RunTraces::Snapshot& run, const std::vector<std::string>& destinations) {
  exporting::TreeRenderer renderer;
  // Each trace id counted once; workflows that share one (the client's traceparent) are said apart.
  std::size_t ids = run.distinct_ids ? run.distinct_ids : run.total;
  std::fprintf(out, "\nllmtap: %zu trace%s", ids, ids == 1 ? "" : "s");
  if (run.workflows > ids)
    std::fprintf(out, " (%zu workflows: some share a trace id from the client's traceparent)", run.workflows);
  std::fprintf(out, "\n");
  for (const auto& t : run.kept) {
    std::string tree = renderer.render_text(t);
    if (!tree.empty() && tree.back() != '\n') tree += '\n';
    std::fprintf(out, "\ntrace %s\n%s", terminal_safe(t.trace_id).c_str(), tree.c_str());
  }
  if (!run.not_kept_ids.empty()) {
    const std::size_t more = run.not_kept_ids.size() + run.not_listed;
    std::fprintf(out, "\n(%zu more trace%s, too many to keep in memory for this report:)\n", more, more == 1 ? "" : "s");
    for (const auto& id : run.not_kept_ids) std::fprintf(out, "trace %s\n", terminal_safe(id).c_str());
    if (run.not_listed > 0)
      std::fprintf(out, "(and %zu more, not listed: `llmtap traces list` shows the stored ones)\n", run.not_listed);
  }
  const CostSummary& s = run.cost;
  if (run.total > 0) {
    std::fprintf(out, "\ncost: %s over %lld model call%s; tokens: %lld in (%lld cached), %lld out (%lld reasoning)\n",
                 s.cost_usd ? exporting::TreeRenderer::format_cost(*s.cost_usd).c_str() : "n/a",
                 static_cast<long long>(s.generations), s.generations == 1 ? "" : "s",
                 static_cast<long long>(s.input_tokens), static_cast<long long>(s.cached_tokens),
                 static_cast<long long>(s.output_tokens), static_cast<long long>(s.reasoning_tokens));
    if (s.unpriced_generations)
      std::fprintf(out, "      %lld call%s used a model missing from the price table (no cost recorded)\n",
                   static_cast<long long>(s.unpriced_generations), s.unpriced_generations == 1 ? "" : "s");
  }
  for (const auto& d : destinations) std::fprintf(out, "%s\n", terminal_safe(d).c_str());
}

}  // namespace llmtap::cli
