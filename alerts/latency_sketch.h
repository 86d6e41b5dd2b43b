#pragma once
// A bounded quantile sketch for latencies: counts in logarithmic buckets (each 10% wider than the
// last, from 1 ms to about 10 hours), so any quantile is known within 5% using a fixed 1 KiB per
// sketch, however many values went in (DDSketch's idea with a fixed range).
#include <array>
#include <cstdint>

namespace llmtap::alerts {

class LatencySketch {
 public:
  static constexpr int kBuckets = 176;
  void add(double seconds);
  void merge(const LatencySketch& other);
  void clear() { *this = LatencySketch(); }
  std::uint64_t count() const { return total_; }
  // The Q quantile (0..1) by nearest rank, within 5% of the true value; 0 when empty. Values under
  // 1 ms read as 1 ms, over the range as its top.
  double quantile(double q) const;

 private:
  std::array<std::uint32_t, kBuckets> counts_{};
  std::uint64_t total_ = 0;
};

}  // namespace llmtap::alerts
