// FileDevice: a BlockDevice over a raw image file (or a block device node).
//
// Reads and writes are pread/pwrite at the same offsets; FUA and Flush use
// fdatasync; Trim and WriteZeroes punch holes (fallocate PUNCH_HOLE |
// KEEP_SIZE) and fall back to writing zeros where the file system cannot.
// The size is the file's size when opened, rounded down to 512 bytes (the
// tail, if any, is not exported).
//
// Thread-safety: every method may be called from several threads at once
// (positional I/O on one descriptor; no shared cursor). Owns its descriptor.
#ifndef VMCRYPT_NBD_FILE_DEVICE_H_
#define VMCRYPT_NBD_FILE_DEVICE_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "vmcrypt/base/status.h"
#include "vmcrypt/nbd/block_device.h"

namespace vmcrypt::nbd {

class FileDevice : public BlockDevice {
 public:
  // Opens an existing file. Errors: NotFound, PermissionDenied,
  // InvalidArgument (not a regular file or block device, or smaller than
  // 512 bytes).
  static Result<std::unique_ptr<FileDevice>> Open(const std::string& path, bool read_only = false);
  // Creates (or truncates) a sparse file of `size` bytes (a multiple of 512),
  // mode 0600.
  static Result<std::unique_ptr<FileDevice>> Create(const std::string& path, uint64_t size);
  ~FileDevice() override;
  FileDevice(const FileDevice&) = delete;
  FileDevice& operator=(const FileDevice&) = delete;

  uint64_t size() const override { return size_; }
  uint32_t block_size() const override { return 4096; }
  uint32_t min_block_size() const override { return 1; }
  bool read_only() const override { return read_only_; }

  Status Read(uint64_t offset, std::span<uint8_t> out) override;
  Status Write(uint64_t offset, std::span<const uint8_t> data, bool fua) override;
  Status Flush() override;
  Status Trim(uint64_t offset, uint64_t length) override;
  Status WriteZeroes(uint64_t offset, uint64_t length, bool fua) override;

 private:
  FileDevice(int fd, uint64_t size, bool read_only, std::string path)
      : fd_(fd), size_(size), read_only_(read_only), path_(std::move(path)) {}
  Status CheckRange(uint64_t offset, uint64_t length) const;
  Status WriteZeroBytes(uint64_t offset, uint64_t length);

  int fd_;
  uint64_t size_;
  bool read_only_;
  std::string path_;
};

}  // namespace vmcrypt::nbd

#endif  // VMCRYPT_NBD_FILE_DEVICE_H_
