// BlockDevice: what the NBD server exports. The encrypted disk image
// (vmcrypt::disk) and plain files both implement it.
//
// Contract: every method may be called concurrently from several threads
// (one NBD connection per thread, several connections per export); an
// implementation serialises what it must. Offsets and lengths are in bytes and
// lie within [0, size()); the NBD server checks bounds before calling. A
// failed call returns a Status whose message names the cause; it never
// contains data or key bytes.
#ifndef VMCRYPT_NBD_BLOCK_DEVICE_H_
#define VMCRYPT_NBD_BLOCK_DEVICE_H_

#include <cstdint>
#include <span>

#include "vmcrypt/base/status.h"

namespace vmcrypt::nbd {

class BlockDevice {
 public:
  virtual ~BlockDevice() = default;

  // Size in bytes (a multiple of block_size()).
  virtual uint64_t size() const = 0;
  // Preferred (and minimum efficient) I/O granularity, e.g. 4096.
  virtual uint32_t block_size() const { return 4096; }
  // Smallest granularity the device accepts (a power of two, 1..64 KiB, at
  // most block_size()): the NBD server advertises it as the minimum block
  // size and refuses requests whose offset or length is not a multiple of it
  // (EINVAL), so an implementation never sees them. 1 = any byte range.
  virtual uint32_t min_block_size() const { return 1; }
  virtual bool read_only() const { return false; }

  virtual Status Read(uint64_t offset, std::span<uint8_t> out) = 0;
  // `fua`: the data is durable when this returns (NBD_CMD_FLAG_FUA).
  virtual Status Write(uint64_t offset, std::span<const uint8_t> data, bool fua) = 0;
  // Makes every completed write durable (NBD_CMD_FLUSH).
  virtual Status Flush() = 0;
  // The range may be discarded; it reads back as zeros afterwards
  // (NBD_CMD_TRIM; we promise zeros, which is stronger than NBD requires).
  virtual Status Trim(uint64_t offset, uint64_t length) = 0;
  // The range reads back as zeros (NBD_CMD_WRITE_ZEROES).
  virtual Status WriteZeroes(uint64_t offset, uint64_t length, bool fua) = 0;
};

}  // namespace vmcrypt::nbd

#endif  // VMCRYPT_NBD_BLOCK_DEVICE_H_
