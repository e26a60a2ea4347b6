#include "bench/kms_load/latency_histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

namespace vmcrypt::bench {
namespace {

TEST(LatencyHistogramTest, BucketsCoverEveryValueInOrder) {
  // Each bucket's upper bound is in that bucket and the next value starts
  // the next bucket: the buckets tile [0, 2^42) without gaps.
  for (int b = 0; b + 1 < LatencyHistogram::kBuckets; ++b) {
    const uint64_t hi = LatencyHistogram::UpperBound(b);
    ASSERT_EQ(LatencyHistogram::BucketOf(hi), b) << b;
    ASSERT_EQ(LatencyHistogram::BucketOf(hi + 1), b + 1) << b;
  }
  EXPECT_EQ(LatencyHistogram::BucketOf(UINT64_MAX), LatencyHistogram::kBuckets - 1);
}

TEST(LatencyHistogramTest, SmallValuesAreExact) {
  auto h = std::make_unique<LatencyHistogram>();
  for (uint64_t v = 1; v <= 100; ++v) h->Record(v);
  EXPECT_EQ(h->count(), 100u);
  EXPECT_EQ(h->Percentile(0.5), 50u);
  EXPECT_EQ(h->Percentile(0.99), 99u);
  EXPECT_EQ(h->Percentile(1.0), 100u);
  EXPECT_EQ(h->Percentile(0.0), 1u);
  EXPECT_EQ(h->min(), 1u);
  EXPECT_EQ(h->max(), 100u);
  EXPECT_DOUBLE_EQ(h->mean(), 50.5);
}

TEST(LatencyHistogramTest, PercentilesWithinOnePercentOfSortedSamples) {
  std::mt19937_64 rng(42);
  std::lognormal_distribution<double> dist(12.0, 1.5);  // around 160 us, long tail
  std::vector<uint64_t> samples;
  auto a = std::make_unique<LatencyHistogram>();
  auto b = std::make_unique<LatencyHistogram>();
  for (int i = 0; i < 200000; ++i) {
    const uint64_t v = static_cast<uint64_t>(dist(rng)) + 1;
    samples.push_back(v);
    (i % 2 ? a : b)->Record(v);
  }
  a->Merge(*b);
  ASSERT_EQ(a->count(), samples.size());
  std::sort(samples.begin(), samples.end());
  for (double q : {0.5, 0.9, 0.99, 0.999}) {
    const uint64_t exact = samples[static_cast<size_t>(q * samples.size()) - 1];
    const uint64_t got = a->Percentile(q);
    EXPECT_GE(got, exact) << q;
    EXPECT_LE(static_cast<double>(got), exact * 1.008 + 1) << q;
  }
  EXPECT_EQ(a->max(), samples.back());
  EXPECT_EQ(a->min(), samples.front());
}

TEST(LatencyHistogramTest, EmptyIsZero) {
  auto h = std::make_unique<LatencyHistogram>();
  EXPECT_EQ(h->Percentile(0.99), 0u);
  EXPECT_EQ(h->min(), 0u);
  EXPECT_EQ(h->mean(), 0);
}

}  // namespace
}  // namespace vmcrypt::bench
