#include "alerts/latency_sketch.h"

#include <algorithm>
#include <cmath>

namespace llmtap::alerts {
namespace {

constexpr double kGamma = 1.1;  // bucket i holds (kMin * gamma^(i-1), kMin * gamma^i]
constexpr double kMin = 0.001;
const double kLogGamma = std::log(kGamma);

int bucket_of(double seconds) {
  if (!(seconds > kMin)) return 0;
  int b = static_cast<int>(std::ceil(std::log(seconds / kMin) / kLogGamma));
  return std::clamp(b, 0, LatencySketch::kBuckets - 1);
}

// The value a bucket stands for: the midpoint of its range, so the error is at most half a bucket.
double value_of(int bucket) {
  if (bucket == 0) return kMin;
  return kMin * std::pow(kGamma, bucket) * (1 + 1 / kGamma) / 2;
}

}  // namespace

void LatencySketch::add(double seconds) {
  auto& c = counts_[static_cast<std::size_t>(bucket_of(seconds))];
  if (c == UINT32_MAX) return;  // saturated: the quantiles barely move past four billion values
  ++c;
  ++total_;
}

void LatencySketch::merge(const LatencySketch& other) {
  for (int i = 0; i < kBuckets; ++i) {
    std::uint64_t sum = std::uint64_t{counts_[i]} + other.counts_[i];
    std::uint32_t kept = static_cast<std::uint32_t>(std::min<std::uint64_t>(sum, UINT32_MAX));
    total_ += kept - counts_[i];
    counts_[i] = kept;
  }
}

double LatencySketch::quantile(double q) const {
  if (total_ == 0) return 0;
  // Nearest rank: the smallest value with at least ceil(q * n) values at or below it.
  const auto rank = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(total_))));
  std::uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) return value_of(i);
  }
  return value_of(kBuckets - 1);
}

}  // namespace llmtap::alerts
