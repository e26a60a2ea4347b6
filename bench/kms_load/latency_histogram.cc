#include "bench/kms_load/latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace vmcrypt::bench {

namespace {
constexpr uint64_t kSub = uint64_t{1} << LatencyHistogram::kSubBits;
}  // namespace

// Bucket layout: [0, 128) one bucket per value; then for each exponent
// e = 7 .. kMaxExponent, 128 buckets covering [2^e, 2^(e+1)), each 2^(e-7)
// wide. Index = 128 * (e - 6) + (value >> (e - 7)) - 128.
int LatencyHistogram::BucketOf(uint64_t nanos) {
  if (nanos < kSub) return static_cast<int>(nanos);
  int e = std::bit_width(nanos) - 1;
  if (e > kMaxExponent) return kBuckets - 1;
  const uint64_t mantissa = nanos >> (e - kSubBits);  // in [128, 256)
  return static_cast<int>(kSub * (e - kSubBits + 1) + (mantissa - kSub));
}

uint64_t LatencyHistogram::UpperBound(int bucket) {
  if (bucket < static_cast<int>(kSub)) return static_cast<uint64_t>(bucket);
  const int e = bucket / static_cast<int>(kSub) + kSubBits - 1;
  const uint64_t mantissa = kSub + static_cast<uint64_t>(bucket) % kSub;
  const int shift = e - kSubBits;
  return ((mantissa + 1) << shift) - 1;
}

void LatencyHistogram::Record(uint64_t nanos) {
  ++counts_[BucketOf(nanos)];
  ++count_;
  sum_ += nanos;
  min_ = std::min(min_, nanos);
  max_ = std::max(max_, nanos);
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (int i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

uint64_t LatencyHistogram::Percentile(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  // The rank of the value sought, 1-based: the ceil(q * n)-th smallest.
  uint64_t rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::clamp(UpperBound(i), min(), max_);
  }
  return max_;
}

}  // namespace vmcrypt::bench
