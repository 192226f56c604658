// A fixed-size log-linear latency histogram (HdrHistogram's idea, two
// significant decimal digits): constant memory, O(1) record, mergeable, and
// percentiles within 1 % of the true value. Microsecond resolution, up to ~1 hour.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>

namespace coffer::bench {

class LatencyHistogram {
 public:
  // Values from 2^k to 2^(k+1) share 128 buckets: relative error below 1 %.
  static constexpr int sub_bucket_bits = 8;
  static constexpr int sub_bucket_count = 1 << sub_bucket_bits;
  static constexpr int magnitude_count = 32 - sub_bucket_bits;  // values < 2^32 us
  static constexpr uint64_t value_max_us = (uint64_t{1} << 32) - 1;

  void record(uint64_t us) {
    us = std::min(us, value_max_us);
    counts_[index(us)]++;
    count_++;
    max_us_ = std::max(max_us_, us);
  }
  void merge(const LatencyHistogram& other) {
    for (size_t i = 0; i < counts_.size(); ++i)
      counts_[i] += other.counts_[i];
    count_ += other.count_;
    max_us_ = std::max(max_us_, other.max_us_);
  }
  uint64_t count() const { return count_; }
  uint64_t max_us() const { return max_us_; }

  // The smallest recorded bucket value v such that at least `percent` % of the
  // samples are <= v (upper edge of the bucket, capped by max).
  uint64_t percentile_us(double percent) const {
    if (count_ == 0) return 0;
    auto rank = static_cast<uint64_t>(percent / 100.0 * static_cast<double>(count_) + 0.5);
    rank = std::clamp<uint64_t>(rank, 1, count_);
    uint64_t seen = 0;
    for (size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= rank) return std::min(upper_edge(i), max_us_);
    }
    return max_us_;
  }

 private:
  static size_t index(uint64_t v) {
    if (v < sub_bucket_count) return static_cast<size_t>(v);
    int magnitude = std::bit_width(v) - sub_bucket_bits;  // >= 1
    uint64_t sub = v >> magnitude;                        // in [128, 256)
    return static_cast<size_t>(magnitude) * (sub_bucket_count / 2) + static_cast<size_t>(sub);
  }
  static uint64_t upper_edge(size_t i) {
    if (i < sub_bucket_count) return i;
    size_t magnitude = (i - sub_bucket_count / 2) / (sub_bucket_count / 2);
    uint64_t sub = i - magnitude * (sub_bucket_count / 2);
    return ((sub + 1) << magnitude) - 1;
  }

  std::array<uint64_t, (magnitude_count + 1) * sub_bucket_count> counts_{};
  uint64_t count_ = 0;
  uint64_t max_us_ = 0;
};

}  // namespace coffer::bench
