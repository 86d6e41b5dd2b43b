#pragma once
// Prometheus text exposition format (version 0.0.4): metric families with HELP and TYPE, label
// values escaped, counters, gauges and histograms. And the families llmtap keeps itself: labelled
// counters and histograms whose label sets are capped (past the cap new series count into one
// series whose every label is "_other", so a hostile client cannot grow the endpoint).
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace llmtap::metrics {

inline constexpr const char* kOverflowLabel = "_other";

// Appends to one exposition text. Each family's samples must be written together.
class Exposition {
 public:
  // "# HELP" and "# TYPE" (counter | gauge | histogram).
  void family(std::string_view name, std::string_view type, std::string_view help);
  // NAME{labels} VALUE. LABELS: name/value pairs.
  void sample(std::string_view name, const std::vector<std::pair<std::string, std::string>>& labels, double value);
  const std::string& text() const { return out_; }

 private:
  std::string out_;
};

// A metric name or label name from an OpenTelemetry name: every character outside [a-zA-Z0-9_:]
// becomes '_' (gen_ai.client.token.usage -> gen_ai_client_token_usage).
std::string prometheus_name(std::string_view otel_name);

using LabelValues = std::vector<std::string>;

// A counter family (thread-safe).
class CounterFamily {
 public:
  CounterFamily(std::string name, std::string help, std::vector<std::string> label_names, std::size_t max_series);
  void add(const LabelValues& values, double amount);
  void write(Exposition& out) const;
  std::size_t series() const;

 private:
  const std::string name_, help_;
  const std::vector<std::string> labels_;
  const std::size_t max_series_;
  mutable std::mutex mu_;
  std::map<LabelValues, double> values_;
};

// A histogram family with fixed bucket bounds (thread-safe).
class HistogramFamily {
 public:
  HistogramFamily(std::string name, std::string help, std::vector<std::string> label_names, std::vector<double> bounds,
                  std::size_t max_series);
  void observe(const LabelValues& values, double v);
  void write(Exposition& out) const;

 private:
  struct Series {
    std::vector<std::uint64_t> counts;  // per bound, not cumulative; +Inf last
    double sum = 0;
    std::uint64_t count = 0;
  };
  const std::string name_, help_;
  const std::vector<std::string> labels_;
  const std::vector<double> bounds_;
  const std::size_t max_series_;
  mutable std::mutex mu_;
  std::map<LabelValues, Series> series_;
};

}  // namespace llmtap::metrics
