#include "metrics/exposition.h"

#include <charconv>
#include <cmath>

namespace llmtap::metrics {
namespace {

void append_number(std::string& out, double v) {
  if (std::isnan(v)) return void(out += "NaN");
  if (std::isinf(v)) return void(out += v > 0 ? "+Inf" : "-Inf");
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest text that reads back as V
  out.append(buf, r.ptr);
}

void append_label_value(std::string& out, std::string_view v) {
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
}

// The label set to count under: VALUES, or the overflow set once MAP holds MAX distinct sets.
template <class Map>
LabelValues capped(const Map& map, const LabelValues& values, std::size_t max) {
  if (map.size() < max || map.count(values)) return values;
  return LabelValues(values.size(), kOverflowLabel);
}

std::vector<std::pair<std::string, std::string>> zip(const std::vector<std::string>& names, const LabelValues& values) {
  std::vector<std::pair<std::string, std::string>> out;
  for (std::size_t i = 0; i < names.size() && i < values.size(); ++i) out.emplace_back(names[i], values[i]);
  return out;
}

}  // namespace

std::string prometheus_name(std::string_view otel) {
  std::string out(otel);
  for (char& c : out)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == ':')) c = '_';
  if (!out.empty() && out[0] >= '0' && out[0] <= '9') out.insert(out.begin(), '_');
  return out;
}

void Exposition::family(std::string_view name, std::string_view type, std::string_view help) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  for (char c : help) out_ += c == '\n' ? ' ' : c;
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void Exposition::sample(std::string_view name, const std::vector<std::pair<std::string, std::string>>& labels,
                        double value) {
  out_ += name;
  if (!labels.empty()) {
    out_ += '{';
    for (std::size_t i = 0; i < labels.size(); ++i) {
      if (i) out_ += ',';
      out_ += labels[i].first;
      out_ += "=\"";
      append_label_value(out_, labels[i].second);
      out_ += '"';
    }
    out_ += '}';
  }
  out_ += ' ';
  append_number(out_, value);
  out_ += '\n';
}

CounterFamily::CounterFamily(std::string name, std::string help, std::vector<std::string> label_names,
                             std::size_t max_series)
    : name_(std::move(name)), help_(std::move(help)), labels_(std::move(label_names)), max_series_(max_series) {}

void CounterFamily::add(const LabelValues& values, double amount) {
  std::lock_guard lock(mu_);
  values_[capped(values_, values, max_series_)] += amount;
}

std::size_t CounterFamily::series() const {
  std::lock_guard lock(mu_);
  return values_.size();
}

void CounterFamily::write(Exposition& out) const {
  out.family(name_, "counter", help_);
  std::lock_guard lock(mu_);
  for (const auto& [values, v] : values_) out.sample(name_, zip(labels_, values), v);
}

HistogramFamily::HistogramFamily(std::string name, std::string help, std::vector<std::string> label_names,
                                 std::vector<double> bounds, std::size_t max_series)
    : name_(std::move(name)),
      help_(std::move(help)),
      labels_(std::move(label_names)),
      bounds_(std::move(bounds)),
      max_series_(max_series) {}

void HistogramFamily::observe(const LabelValues& values, double v) {
  std::lock_guard lock(mu_);
  Series& s = series_[capped(series_, values, max_series_)];
  if (s.counts.empty()) s.counts.assign(bounds_.size() + 1, 0);
  std::size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  ++s.counts[i];
  s.sum += v;
  ++s.count;
}

void HistogramFamily::write(Exposition& out) const {
  out.family(name_, "histogram", help_);
  std::lock_guard lock(mu_);
  for (const auto& [values, s] : series_) {
    auto labels = zip(labels_, values);
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i <= bounds_.size(); ++i) {
      cumulative += s.counts[i];
      auto with_le = labels;
      std::string le;
      if (i < bounds_.size()) append_number(le, bounds_[i]);
      else le = "+Inf";
      with_le.emplace_back("le", le);
      out.sample(name_ + "_bucket", with_le, static_cast<double>(cumulative));
    }
    out.sample(name_ + "_sum", labels, s.sum);
    out.sample(name_ + "_count", labels, static_cast<double>(s.count));
  }
}

}  // namespace llmtap::metrics
