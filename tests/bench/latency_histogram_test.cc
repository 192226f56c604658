#include "bench/latency_histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace coffer::bench {
namespace {

TEST(LatencyHistogram, SmallValuesAreExact) {
  for (uint64_t v : {0u, 1u, 64u, 127u, 255u}) {
    LatencyHistogram h;
    h.record(v);
    EXPECT_EQ(h.percentile_us(50), v);
    EXPECT_EQ(h.max_us(), v);
  }
}

TEST(LatencyHistogram, PercentilesWithinOnePercentOfExact) {
  std::mt19937_64 rng(42);
  LatencyHistogram h;
  std::vector<uint64_t> values;
  for (int i = 0; i < 100'000; ++i) {
    uint64_t v = 1 + rng() % 1'000'000 + (rng() % 20 == 0 ? rng() % 50'000'000 : 0);
    values.push_back(v);
    h.record(v);
  }
  std::sort(values.begin(), values.end());
  for (double p : {50.0, 90.0, 99.0, 99.9}) {
    auto rank = static_cast<size_t>(p / 100 * static_cast<double>(values.size()) + 0.5);
    double exact = static_cast<double>(values[rank - 1]);
    double got = static_cast<double>(h.percentile_us(p));
    EXPECT_NEAR(got / exact, 1.0, 0.01) << "p" << p;
  }
  EXPECT_EQ(h.percentile_us(100), values.back());
  EXPECT_EQ(h.count(), values.size());
}

TEST(LatencyHistogram, MergeEqualsRecordingEverythingInOne) {
  LatencyHistogram a, b, all;
  for (uint64_t v = 1; v < 100'000; v += 7) {
    (v % 2 ? a : b).record(v);
    all.record(v);
  }
  a.merge(b);
  for (double p : {1.0, 50.0, 99.0, 100.0})
    EXPECT_EQ(a.percentile_us(p), all.percentile_us(p));
  EXPECT_EQ(a.count(), all.count());
}

TEST(LatencyHistogram, HugeValuesAreCapped) {
  LatencyHistogram h;
  h.record(UINT64_MAX);
  EXPECT_EQ(h.max_us(), LatencyHistogram::value_max_us);
  EXPECT_EQ(h.percentile_us(50), LatencyHistogram::value_max_us);
}

}  // namespace
}  // namespace coffer::bench
