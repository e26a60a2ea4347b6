// EncryptedDisk: an open vmcrypt encrypted disk (docs/disk-format.md) as a
// block device: reads decrypt, writes encrypt (XTS-AES-256, 4 KiB sectors),
// TRIM and WRITE_ZEROES punch holes. It implements nbd::BlockDevice, so the
// NBD server exports it, and it runs a deep rekey while serving I/O.
//
// Ownership: the object owns its file descriptors and the DEKs (in
// SecretBytes, wiped on destruction). KEKs are used only while opening and
// starting a rekey; they are not kept.
//
// Thread-safety: Read/Write/Flush/Trim/WriteZeroes and DeepRekeyStep may be
// called concurrently from any threads. Each chunk (1 MiB) of the disk has a
// region lock (striped): reads take it shared, writes exclusive (so partial
// sector read-modify-writes do not race), a rekey step exclusive for the
// whole conversion of its chunk.
#ifndef VMCRYPT_DISK_ENCRYPTED_DISK_H_
#define VMCRYPT_DISK_ENCRYPTED_DISK_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <vector>

#include "vmcrypt/base/secret_bytes.h"
#include "vmcrypt/base/status.h"
#include "vmcrypt/crypto/xts.h"
#include "vmcrypt/disk/header.h"
#include "vmcrypt/disk/header_store.h"
#include "vmcrypt/nbd/block_device.h"

namespace vmcrypt::disk {

struct OpenOptions {
  bool read_only = false;
};

class EncryptedDisk final : public nbd::BlockDevice {
 public:
  // Opens the disk at `path` (attached, or detached with path.hdr), choosing
  // and verifying the header with KEKs from `kek`, and repairing the other
  // header copy unless read-only. While open, the header file (the disk
  // file, or path.hdr) holds an advisory flock: exclusive for a writable
  // disk, shared for a read-only one; a deep rekey started on this object
  // runs under the same lock. Errors: FailedPrecondition "disk PATH is in
  // use by another process" when a conflicting lock is held; those of
  // LocateDisk and HeaderStore::Load; DataLoss if the data file is shorter
  // than the disk;
  // FailedPrecondition if an in-place encryption or decryption is unfinished
  // (run the same command again to resume it).
  static Result<std::unique_ptr<EncryptedDisk>> Open(const std::string& path, const KekLookup& kek,
                                                     OpenOptions options = {});
  ~EncryptedDisk() override;

  uint64_t size() const override { return size_; }
  bool read_only() const override { return read_only_; }
  Status Read(uint64_t offset, std::span<uint8_t> out) override;
  Status Write(uint64_t offset, std::span<const uint8_t> data, bool fua) override;
  Status Flush() override;
  Status Trim(uint64_t offset, uint64_t length) override;
  Status WriteZeroes(uint64_t offset, uint64_t length, bool fua) override;

  // A snapshot of the current header.
  Header header() const;
  const DiskPaths& paths() const { return paths_; }
  // True if opening rewrote a damaged or stale header copy.
  bool header_repaired() const { return header_repaired_; }

  // Starts a deep rekey: a new random DEK, wrapped by `kek` under the
  // provider and key id of the current key, recorded with checkpoint 0 (one
  // atomic header update). If a deep rekey is already recorded, does nothing
  // (DeepRekeyStep resumes it). FailedPrecondition when read-only.
  Status BeginDeepRekey(const SecretBytes& kek);
  // Converts the next chunk (or skips a run of holes); when the last chunk
  // is done, makes the new DEK the only one. Returns true when the rekey is
  // complete (or none is running).
  Result<bool> DeepRekeyStep();
  // Chunks converted so far, and the total.
  uint64_t rekey_checkpoint() const { return checkpoint_.load(); }
  uint64_t chunk_count() const { return (size_ + kChunkSize - 1) / kChunkSize; }

 private:
  class KeyCiphers;
  class RegionLock;
  static constexpr size_t kStripes = 64;

  EncryptedDisk() = default;
  KeyCiphers& KeyFor(uint64_t sector) const;
  Status ReadSectors(uint64_t first_sector, std::span<uint8_t> out);
  Status WriteSectors(uint64_t first_sector, std::span<uint8_t> plain);
  Status WriteLocked(uint64_t offset, std::span<const uint8_t> data);
  Status ZeroLocked(uint64_t offset, uint64_t length);
  Status CheckRange(uint64_t offset, uint64_t length, bool write) const;
  Status FinishRekey();

  DiskPaths paths_;
  int data_fd_ = -1;
  uint64_t data_offset_ = 0;
  uint64_t size_ = 0;
  bool read_only_ = false;
  bool header_repaired_ = false;

  mutable std::mutex header_mu_;  // guards header_, store_ and the key swap
  Header header_;
  std::unique_ptr<HeaderStore> store_;
  std::unique_ptr<KeyCiphers> current_;
  std::unique_ptr<KeyCiphers> next_;  // while a deep rekey runs
  std::atomic<bool> rekeying_{false};
  std::atomic<uint64_t> checkpoint_{0};
  mutable std::array<std::shared_mutex, kStripes> stripes_;
};

}  // namespace vmcrypt::disk

#endif  // VMCRYPT_DISK_ENCRYPTED_DISK_H_
