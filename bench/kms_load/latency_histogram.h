// LatencyHistogram: counts latencies in logarithmic buckets, the way
// HdrHistogram does with 7 significant bits: values below 128 ns are exact,
// larger ones fall in buckets 1/128 of their power of two wide, so every
// reported percentile is within 0.8% of a recorded value. Fixed memory
// (about 36 KiB), O(1) Record, mergeable.
//
// Thread-safety: none; give each thread its own and Merge() them afterwards.
#ifndef VMCRYPT_BENCH_KMS_LOAD_LATENCY_HISTOGRAM_H_
#define VMCRYPT_BENCH_KMS_LOAD_LATENCY_HISTOGRAM_H_

#include <array>
#include <cstdint>

namespace vmcrypt::bench {

class LatencyHistogram {
 public:
  // Records one latency in nanoseconds. Values of 2^42 ns (about 73 minutes)
  // or more are counted in the last bucket.
  void Record(uint64_t nanos);
  void Merge(const LatencyHistogram& other);

  uint64_t count() const { return count_; }
  uint64_t min() const { return count_ == 0 ? 0 : min_; }
  uint64_t max() const { return max_; }
  double mean() const { return count_ == 0 ? 0 : static_cast<double>(sum_) / count_; }

  // The smallest bucket upper bound at or below which a fraction `q` (0..1)
  // of the recorded values lie, clamped to [min(), max()]; 0 when empty.
  uint64_t Percentile(double q) const;

  // Bucket arithmetic, public for the tests.
  static constexpr int kSubBits = 7;
  static constexpr int kMaxExponent = 41;
  static constexpr int kBuckets = (1 << kSubBits) * (kMaxExponent - kSubBits + 2);
  static int BucketOf(uint64_t nanos);
  // The largest value that falls in `bucket`.
  static uint64_t UpperBound(int bucket);

 private:
  std::array<uint64_t, kBuckets> counts_{};
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
};

}  // namespace vmcrypt::bench

#endif  // VMCRYPT_BENCH_KMS_LOAD_LATENCY_HISTOGRAM_H_
