// EncryptedDisk: sector I/O, region locks and deep rekey
// (docs/disk-format.md "Data sectors", "Operations and crash safety").
#include "vmcrypt/disk/encrypted_disk.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "src/disk/convert.h"
#include "src/disk/io.h"

namespace vmcrypt::disk {

constexpr uint64_t kSectorsPerChunk = kChunkSize / kSectorSize;

// One DEK with a pool of keyed XTS contexts (a context is used by one thread
// at a time; the pool keeps key setup off the I/O path).
class EncryptedDisk::KeyCiphers {
 public:
  static Result<std::unique_ptr<KeyCiphers>> Create(SecretBytes dek,
                                                    const std::array<uint8_t, 16>& uuid) {
    auto k = std::unique_ptr<KeyCiphers>(new KeyCiphers());
    ASSIGN_OR_RETURN(k->mac_key_, DeriveMacKey(dek, uuid));
    // Checks the key once (size, distinct halves).
    ASSIGN_OR_RETURN(crypto::XtsAes256 first, crypto::XtsAes256::Create(dek));
    k->pool_.push_back(std::make_unique<crypto::XtsAes256>(std::move(first)));
    k->dek_ = std::move(dek);
    return k;
  }
  const SecretBytes& mac_key() const { return mac_key_; }

  Status Run(bool encrypt, uint64_t first_sector, std::span<uint8_t> data) {
    std::unique_ptr<crypto::XtsAes256> x;
    {
      std::lock_guard<std::mutex> l(mu_);
      if (!pool_.empty()) {
        x = std::move(pool_.back());
        pool_.pop_back();
      }
    }
    if (x == nullptr) {
      ASSIGN_OR_RETURN(crypto::XtsAes256 made, crypto::XtsAes256::Create(dek_));
      x = std::make_unique<crypto::XtsAes256>(std::move(made));
    }
    Status s =
        encrypt ? x->Encrypt(first_sector, data, data) : x->Decrypt(first_sector, data, data);
    std::lock_guard<std::mutex> l(mu_);
    pool_.push_back(std::move(x));
    return s;
  }

 private:
  KeyCiphers() = default;
  SecretBytes dek_;
  SecretBytes mac_key_;
  std::mutex mu_;
  std::vector<std::unique_ptr<crypto::XtsAes256>> pool_;
};

// Holds the region locks of chunks [first, last] (all stripes when the range
// is long), taken in stripe order so that two holders never deadlock.
class EncryptedDisk::RegionLock {
 public:
  RegionLock(std::array<std::shared_mutex, kStripes>& stripes, uint64_t first_chunk,
             uint64_t last_chunk, bool exclusive)
      : stripes_(stripes), exclusive_(exclusive) {
    if (last_chunk - first_chunk + 1 >= kStripes) {
      held_.fill(true);
    } else {
      for (uint64_t c = first_chunk; c <= last_chunk; ++c) held_[c % kStripes] = true;
    }
    for (size_t i = 0; i < kStripes; ++i) {
      if (!held_[i]) continue;
      if (exclusive_) {
        stripes_[i].lock();
      } else {
        stripes_[i].lock_shared();
      }
    }
  }
  ~RegionLock() {
    for (size_t i = kStripes; i-- > 0;) {
      if (!held_[i]) continue;
      if (exclusive_) {
        stripes_[i].unlock();
      } else {
        stripes_[i].unlock_shared();
      }
    }
  }
  RegionLock(const RegionLock&) = delete;
  RegionLock& operator=(const RegionLock&) = delete;

 private:
  std::array<std::shared_mutex, kStripes>& stripes_;
  bool exclusive_;
  std::array<bool, kStripes> held_{};
};

Result<std::unique_ptr<EncryptedDisk>> EncryptedDisk::Open(const std::string& path,
                                                           const KekLookup& kek,
                                                           OpenOptions options) {
  ASSIGN_OR_RETURN(DiskPaths paths, LocateDisk(path));
  ASSIGN_OR_RETURN(std::unique_ptr<HeaderStore> store,
                   HeaderStore::Open(paths.header_path, !options.read_only));
  // Locked before Load, which may repair a header copy; held until the
  // store (and so the disk) is closed.
  RETURN_IF_ERROR(internal::LockDisk(store->fd(), !options.read_only, path));
  ASSIGN_OR_RETURN(HeaderStore::Loaded loaded, store->Load(kek));
  const Header& h = loaded.header;
  if (h.detached != paths.detached) {
    return DataLossError(path + ": the header's detached flag does not match its location");
  }
  if (h.operation == Operation::kEncrypt || h.operation == Operation::kDecrypt) {
    return FailedPreconditionError(path + ": an " + OperationName(h.operation) +
                                   " is unfinished; run the same command again to resume it");
  }
  if (h.operation == Operation::kDeepRekey && h.journal_valid && options.read_only) {
    return FailedPreconditionError(path +
                                   ": a deep rekey was interrupted inside a chunk; open the "
                                   "disk for writing to recover it");
  }
  auto disk = std::unique_ptr<EncryptedDisk>(new EncryptedDisk());
  disk->paths_ = paths;
  ASSIGN_OR_RETURN(internal::UniqueFd data,
                   internal::OpenFile(paths.data_path, options.read_only ? O_RDONLY : O_RDWR));
  ASSIGN_OR_RETURN(uint64_t file_size, internal::FileSize(data.get()));
  if (file_size < h.data_offset + h.size) {
    return DataLossError(path + " is truncated: the disk needs " +
                         std::to_string(h.data_offset + h.size) + " bytes, the file has " +
                         std::to_string(file_size));
  }
  disk->data_fd_ = data.Release();
  disk->data_offset_ = h.data_offset;
  disk->size_ = h.size;
  disk->read_only_ = options.read_only;
  disk->header_repaired_ = loaded.repaired;
  disk->header_ = h;
  disk->store_ = std::move(store);
  ASSIGN_OR_RETURN(disk->current_, KeyCiphers::Create(std::move(loaded.dek), h.uuid));
  if (h.operation == Operation::kDeepRekey) {
    ASSIGN_OR_RETURN(disk->next_, KeyCiphers::Create(std::move(loaded.next_dek), h.uuid));
    disk->checkpoint_ = h.checkpoint;
    disk->rekeying_ = true;
    // A chunk interrupted mid-conversion is finished from its journal before
    // any I/O can see its half-converted bytes.
    if (h.journal_valid) RETURN_IF_ERROR(disk->DeepRekeyStep().status());
  }
  return disk;
}

EncryptedDisk::~EncryptedDisk() {
  if (data_fd_ >= 0) close(data_fd_);
}

Header EncryptedDisk::header() const {
  std::lock_guard<std::mutex> l(header_mu_);
  return header_;
}

EncryptedDisk::KeyCiphers& EncryptedDisk::KeyFor(uint64_t sector) const {
  if (rekeying_.load() && sector / kSectorsPerChunk < checkpoint_.load()) return *next_;
  return *current_;
}

Status EncryptedDisk::CheckRange(uint64_t offset, uint64_t length, bool write) const {
  if (write && read_only_) return FailedPreconditionError("the disk is open read-only");
  if (offset > size_ || length > size_ - offset) {
    return OutOfRangeError("range [" + std::to_string(offset) + ", +" + std::to_string(length) +
                           ") is beyond the disk size " + std::to_string(size_));
  }
  return OkStatus();
}

// Reads and decrypts whole sectors; the caller holds their region locks.
Status EncryptedDisk::ReadSectors(uint64_t first_sector, std::span<uint8_t> out) {
  RETURN_IF_ERROR(
      internal::PreadExact(data_fd_, out, data_offset_ + first_sector * kSectorSize, "disk data"));
  return internal::ForEachNonZeroRun(
      first_sector, out, [this](uint64_t s, std::span<uint8_t> run) -> Status {
        // Split the run where the key changes (the rekey checkpoint).
        while (!run.empty()) {
          KeyCiphers& key = KeyFor(s);
          size_t n = 1;
          while (n < run.size() / kSectorSize && &KeyFor(s + n) == &key) ++n;
          RETURN_IF_ERROR(key.Run(false, s, run.first(n * kSectorSize)));
          run = run.subspan(n * kSectorSize);
          s += n;
        }
        return OkStatus();
      });
}

// Encrypts whole plaintext sectors (in place in `plain`) and stores them;
// the caller holds their region locks exclusively.
Status EncryptedDisk::WriteSectors(uint64_t first_sector, std::span<uint8_t> plain) {
  RETURN_IF_ERROR(internal::ForEachNonZeroRun(
      first_sector, plain, [this](uint64_t s, std::span<uint8_t> run) -> Status {
        while (!run.empty()) {
          KeyCiphers& key = KeyFor(s);
          size_t n = 1;
          while (n < run.size() / kSectorSize && &KeyFor(s + n) == &key) ++n;
          RETURN_IF_ERROR(key.Run(true, s, run.first(n * kSectorSize)));
          run = run.subspan(n * kSectorSize);
          s += n;
        }
        return OkStatus();
      }));
  return internal::StoreSectors(data_fd_, data_offset_, first_sector, plain);
}

Status EncryptedDisk::Read(uint64_t offset, std::span<uint8_t> out) {
  RETURN_IF_ERROR(CheckRange(offset, out.size(), false));
  if (out.empty()) return OkStatus();
  const uint64_t first = offset / kSectorSize;
  const uint64_t last = (offset + out.size() - 1) / kSectorSize;
  RegionLock lock(stripes_, first / kSectorsPerChunk, last / kSectorsPerChunk, false);
  if (offset % kSectorSize == 0 && out.size() % kSectorSize == 0) {
    return ReadSectors(first, out);
  }
  std::vector<uint8_t> buf((last - first + 1) * kSectorSize);
  RETURN_IF_ERROR(ReadSectors(first, buf));
  std::memcpy(out.data(), buf.data() + offset % kSectorSize, out.size());
  return OkStatus();
}

Status EncryptedDisk::WriteLocked(uint64_t offset, std::span<const uint8_t> data) {
  const uint64_t first = offset / kSectorSize;
  const uint64_t last = (offset + data.size() - 1) / kSectorSize;
  std::vector<uint8_t> buf((last - first + 1) * kSectorSize);
  const std::span<uint8_t> all(buf);
  if (offset % kSectorSize != 0) RETURN_IF_ERROR(ReadSectors(first, all.first(kSectorSize)));
  if ((offset + data.size()) % kSectorSize != 0 && (last != first || offset % kSectorSize == 0)) {
    RETURN_IF_ERROR(ReadSectors(last, all.last(kSectorSize)));
  }
  std::memcpy(buf.data() + offset % kSectorSize, data.data(), data.size());
  return WriteSectors(first, buf);
}

Status EncryptedDisk::Write(uint64_t offset, std::span<const uint8_t> data, bool fua) {
  RETURN_IF_ERROR(CheckRange(offset, data.size(), true));
  if (data.empty()) return OkStatus();
  {
    const uint64_t first = offset / kSectorSize;
    const uint64_t last = (offset + data.size() - 1) / kSectorSize;
    RegionLock lock(stripes_, first / kSectorsPerChunk, last / kSectorsPerChunk, true);
    RETURN_IF_ERROR(WriteLocked(offset, data));
  }
  return fua ? Flush() : OkStatus();
}

Status EncryptedDisk::Flush() {
  if (read_only_) return OkStatus();
  return internal::SyncData(data_fd_, "disk data");
}

Status EncryptedDisk::ZeroLocked(uint64_t offset, uint64_t length) {
  const uint64_t end = offset + length;
  const uint64_t full_first = (offset + kSectorSize - 1) / kSectorSize;
  const uint64_t full_end = end / kSectorSize;
  if (full_first >= full_end) {
    std::vector<uint8_t> zeros(length, 0);
    return WriteLocked(offset, zeros);
  }
  if (offset < full_first * kSectorSize) {
    std::vector<uint8_t> zeros(full_first * kSectorSize - offset, 0);
    RETURN_IF_ERROR(WriteLocked(offset, zeros));
  }
  if (end > full_end * kSectorSize) {
    std::vector<uint8_t> zeros(end - full_end * kSectorSize, 0);
    RETURN_IF_ERROR(WriteLocked(full_end * kSectorSize, zeros));
  }
  // Unwritten sectors (holes) read as zeros under any key.
  return internal::PunchHole(data_fd_, data_offset_ + full_first * kSectorSize,
                             (full_end - full_first) * kSectorSize, "disk data");
}

Status EncryptedDisk::Trim(uint64_t offset, uint64_t length) {
  return WriteZeroes(offset, length, false);
}

Status EncryptedDisk::WriteZeroes(uint64_t offset, uint64_t length, bool fua) {
  RETURN_IF_ERROR(CheckRange(offset, length, true));
  if (length == 0) return OkStatus();
  {
    const uint64_t first = offset / kSectorSize;
    const uint64_t last = (offset + length - 1) / kSectorSize;
    RegionLock lock(stripes_, first / kSectorsPerChunk, last / kSectorsPerChunk, true);
    RETURN_IF_ERROR(ZeroLocked(offset, length));
  }
  return fua ? Flush() : OkStatus();
}

Status EncryptedDisk::BeginDeepRekey(const SecretBytes& kek) {
  if (read_only_) return FailedPreconditionError("the disk is open read-only");
  std::lock_guard<std::mutex> l(header_mu_);
  if (rekeying_.load()) return OkStatus();
  const KeySafeEntry* current = header_.Find(KeyRole::kCurrent);
  // The KEK must be the one that protects the current key.
  RETURN_IF_ERROR(UnwrapDek(*current, kek).status());
  ASSIGN_OR_RETURN(SecretBytes dek, GenerateDek());
  ASSIGN_OR_RETURN(KeySafeEntry next,
                   WrapDek(dek, kek, KeyRole::kNext, current->provider_id, current->key_id));
  ASSIGN_OR_RETURN(std::unique_ptr<KeyCiphers> next_ciphers,
                   KeyCiphers::Create(std::move(dek), header_.uuid));
  Header h = header_;
  if (h.entries.size() >= kMaxKeySafeEntries) {
    return FailedPreconditionError("the key safe is full");
  }
  h.entries.push_back(std::move(next));
  h.operation = Operation::kDeepRekey;
  h.checkpoint = 0;
  h.journal_valid = false;
  RETURN_IF_ERROR(store_->Update(&h, current_->mac_key()));
  header_ = std::move(h);
  next_ = std::move(next_ciphers);
  checkpoint_ = 0;
  rekeying_ = true;
  return OkStatus();
}

Result<bool> EncryptedDisk::DeepRekeyStep() {
  if (read_only_) return FailedPreconditionError("the disk is open read-only");
  std::lock_guard<std::mutex> l(header_mu_);
  if (!rekeying_.load()) return true;
  const uint64_t k = header_.checkpoint;
  const uint64_t chunks = chunk_count();
  if (k < chunks && !header_.journal_valid) {
    // Skip a run of holes at once (a sparse 100 GiB disk is mostly holes).
    // Under every region lock, so no write lands in the skipped range
    // between the look and the checkpoint update.
    const off_t pos = static_cast<off_t>(data_offset_ + k * kChunkSize);
    auto next_data_chunk = [&]() -> uint64_t {
      const off_t data = lseek(data_fd_, pos, SEEK_DATA);
      if (data < 0 && errno == ENXIO) return chunks;
      if (data < pos) return k;  // no SEEK_DATA here: treat everything as data
      return std::min<uint64_t>(chunks, (static_cast<uint64_t>(data) - data_offset_) / kChunkSize);
    };
    // A cheap look first; every region lock only when there is a run to skip.
    const bool hole = next_data_chunk() > k;
    std::optional<RegionLock> all;
    if (hole) all.emplace(stripes_, 0, kStripes, true);
    const uint64_t target = hole ? next_data_chunk() : k;
    if (target > k) {
      Header h = header_;
      h.checkpoint = target;
      RETURN_IF_ERROR(store_->Update(&h, current_->mac_key()));
      header_ = std::move(h);
      checkpoint_ = target;
    }
  }
  if (header_.checkpoint < chunks) {
    const uint64_t c = header_.checkpoint;
    RegionLock lock(stripes_, c, c, true);
    Header h = header_;
    KeyCiphers& old_key = *current_;
    KeyCiphers& new_key = *next_;
    RETURN_IF_ERROR(internal::ConvertChunk(*store_, &h, current_->mac_key(), data_fd_,
                                           [&](uint64_t s, std::span<uint8_t> run) -> Status {
                                             RETURN_IF_ERROR(old_key.Run(false, s, run));
                                             return new_key.Run(true, s, run);
                                           }));
    header_ = std::move(h);
    checkpoint_ = header_.checkpoint;  // before the region lock is released
  }
  if (header_.checkpoint < chunks) return false;
  RETURN_IF_ERROR(FinishRekey());
  return true;
}

// Makes the next DEK the current one; header_mu_ is held.
Status EncryptedDisk::FinishRekey() {
  RegionLock all(stripes_, 0, kStripes, true);
  Header h = header_;
  std::vector<KeySafeEntry> entries;
  for (KeySafeEntry& e : h.entries) {
    if (e.role == KeyRole::kNext) {
      e.role = KeyRole::kCurrent;
      entries.push_back(std::move(e));
    }
  }
  h.entries = std::move(entries);
  h.operation = Operation::kNone;
  h.checkpoint = 0;
  h.journal_valid = false;
  h.journal_sha256 = {};
  RETURN_IF_ERROR(store_->Update(&h, next_->mac_key()));
  header_ = std::move(h);
  current_ = std::move(next_);
  rekeying_ = false;
  checkpoint_ = 0;
  // The journal holds old ciphertext only; drop it anyway.
  RETURN_IF_ERROR(internal::PunchHole(store_->fd(), kJournalOffset, kChunkSize, "journal"));
  return internal::SyncData(store_->fd(), "journal");
}

}  // namespace vmcrypt::disk
