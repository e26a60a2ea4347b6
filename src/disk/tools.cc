// The offline disk operations (include/vmcrypt/disk/tools.h).
#include "vmcrypt/disk/tools.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "src/disk/convert.h"
#include "src/disk/io.h"
#include "vmcrypt/crypto/xts.h"
#include "vmcrypt/disk/encrypted_disk.h"
#include "vmcrypt/disk/header.h"
#include "vmcrypt/disk/header_store.h"

namespace vmcrypt::disk {
namespace {

using internal::UniqueFd;

bool Exists(const std::string& path) {
  struct stat st {};
  return lstat(path.c_str(), &st) == 0;
}

Status CheckKek(const SecretBytes& kek) {
  if (kek.size() != 32) {
    return InvalidArgumentError("a KEK must be 32 bytes (AES-256), the key file holds " +
                                std::to_string(kek.size()));
  }
  return OkStatus();
}

Status CheckNew(const std::string& path) {
  if (Exists(path)) return AlreadyExistsError(path + " exists; not overwriting it");
  return OkStatus();
}

// Renames `tmp` to `path` durably.
Status Commit(int fd, const std::string& tmp, const std::string& path) {
  if (fsync(fd) != 0) return InternalError("sync " + tmp + " failed");
  if (rename(tmp.c_str(), path.c_str()) != 0) return InternalError("rename to " + path + " failed");
  return internal::SyncParentDir(path);
}

Result<Header> NewHeader(uint64_t size, bool detached, const SecretBytes& dek,
                         const SecretBytes& kek, const KekRef& ref) {
  Header h;
  ASSIGN_OR_RETURN(h.uuid, NewUuid());
  h.size = size;
  h.detached = detached;
  h.data_offset = detached ? 0 : kAttachedDataOffset;
  ASSIGN_OR_RETURN(KeySafeEntry e,
                   WrapDek(dek, kek, KeyRole::kCurrent, ref.provider_id, ref.key_id));
  h.entries.push_back(std::move(e));
  RETURN_IF_ERROR(ValidateHeader(h));
  return h;
}

Status CheckImageSize(uint64_t size, const std::string& path) {
  if (size == 0 || size % kSectorSize != 0) {
    return InvalidArgumentError(path + ": size " + std::to_string(size) +
                                " is not a non-zero multiple of 4096 bytes");
  }
  if (size > kMaxDiskSize) return InvalidArgumentError(path + ": larger than 1 PiB");
  return OkStatus();
}

// Runs ConvertChunk until the recorded operation has covered every chunk.
Status RunConversion(HeaderStore& store, Header* h, const SecretBytes& mac_key, int data_fd,
                     const internal::SectorTransform& transform, const ProgressFn& progress) {
  const uint64_t chunks = h->chunk_count();
  while (h->checkpoint < chunks) {
    RETURN_IF_ERROR(internal::ConvertChunk(store, h, mac_key, data_fd, transform));
    if (progress) progress(h->checkpoint, chunks);
  }
  return OkStatus();
}

Status DropJournal(int fd) {
  RETURN_IF_ERROR(internal::PunchHole(fd, kJournalOffset, kChunkSize, "journal"));
  return internal::SyncData(fd, "journal");
}

}  // namespace

Result<uint64_t> ParseSize(const std::string& text) {
  if (text.empty()) return InvalidArgumentError("empty size");
  uint64_t mult = 1;
  std::string digits = text;
  switch (text.back()) {
    case 'K':
    case 'k':
      mult = uint64_t{1} << 10;
      break;
    case 'M':
    case 'm':
      mult = uint64_t{1} << 20;
      break;
    case 'G':
    case 'g':
      mult = uint64_t{1} << 30;
      break;
    case 'T':
    case 't':
      mult = uint64_t{1} << 40;
      break;
    default:
      break;
  }
  if (mult != 1) digits.pop_back();
  if (digits.empty() || !std::all_of(digits.begin(), digits.end(), ::isdigit) ||
      digits.size() > 15) {
    return InvalidArgumentError("bad size \"" + text + "\" (want e.g. 4096, 64K, 100M, 2G)");
  }
  const uint64_t n = std::stoull(digits);
  if (n > kMaxDiskSize / mult) return InvalidArgumentError("size \"" + text + "\" too large");
  return n * mult;
}

Status CreateDisk(const std::string& path, uint64_t size, const SecretBytes& kek,
                  const KekRef& ref) {
  RETURN_IF_ERROR(CheckKek(kek));
  RETURN_IF_ERROR(CheckImageSize(size, path));
  RETURN_IF_ERROR(CheckNew(path));
  ASSIGN_OR_RETURN(SecretBytes dek, GenerateDek());
  ASSIGN_OR_RETURN(Header h, NewHeader(size, false, dek, kek, ref));
  ASSIGN_OR_RETURN(SecretBytes mac_key, DeriveMacKey(dek, h.uuid));
  const std::string tmp = path + ".partial";
  ASSIGN_OR_RETURN(UniqueFd fd, internal::OpenFile(tmp, O_RDWR | O_CREAT | O_TRUNC, 0600));
  if (ftruncate(fd.get(), static_cast<off_t>(kAttachedDataOffset + size)) != 0) {
    return InternalError("cannot size " + tmp);
  }
  RETURN_IF_ERROR(HeaderStore::WriteInitial(fd.get(), h, mac_key));
  return Commit(fd.get(), tmp, path);
}

Status EncryptInPlace(const std::string& raw, const SecretBytes& kek, const KekRef& ref,
                      const ProgressFn& progress) {
  RETURN_IF_ERROR(CheckKek(kek));
  ASSIGN_OR_RETURN(UniqueFd data, internal::OpenFile(raw, O_RDWR));
  ASSIGN_OR_RETURN(uint64_t size, internal::FileSize(data.get()));
  const std::string hdr = raw + ".hdr";
  if (!Exists(hdr)) {
    auto located = LocateDisk(raw);
    if (located.ok()) return AlreadyExistsError(raw + " is already an encrypted disk");
    RETURN_IF_ERROR(CheckImageSize(size, raw));
    ASSIGN_OR_RETURN(SecretBytes dek, GenerateDek());
    ASSIGN_OR_RETURN(Header h, NewHeader(size, true, dek, kek, ref));
    h.operation = Operation::kEncrypt;
    ASSIGN_OR_RETURN(SecretBytes mac_key, DeriveMacKey(dek, h.uuid));
    const std::string tmp = hdr + ".partial";
    ASSIGN_OR_RETURN(UniqueFd fd, internal::OpenFile(tmp, O_RDWR | O_CREAT | O_TRUNC, 0600));
    if (ftruncate(fd.get(), static_cast<off_t>(kHeaderRegionSize)) != 0) {
      return InternalError("cannot size " + tmp);
    }
    RETURN_IF_ERROR(HeaderStore::WriteInitial(fd.get(), h, mac_key));
    RETURN_IF_ERROR(Commit(fd.get(), tmp, hdr));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<HeaderStore> store, HeaderStore::Open(hdr, true));
  RETURN_IF_ERROR(internal::LockDisk(store->fd(), true, raw));
  ASSIGN_OR_RETURN(HeaderStore::Loaded loaded, store->Load(SingleKek(kek)));
  Header& h = loaded.header;
  if (h.operation == Operation::kNone) {
    return AlreadyExistsError(raw + " is already encrypted (" + hdr + ")");
  }
  if (h.operation != Operation::kEncrypt) {
    return FailedPreconditionError(raw + ": an unfinished " +
                                   std::string(OperationName(h.operation)) + " is recorded");
  }
  if (h.size != size) {
    return DataLossError(raw + " is " + std::to_string(size) + " bytes; its header says " +
                         std::to_string(h.size));
  }
  ASSIGN_OR_RETURN(SecretBytes mac_key, DeriveMacKey(loaded.dek, h.uuid));
  ASSIGN_OR_RETURN(crypto::XtsAes256 xts, crypto::XtsAes256::Create(loaded.dek));
  RETURN_IF_ERROR(RunConversion(
      *store, &h, mac_key, data.get(),
      [&xts](uint64_t s, std::span<uint8_t> run) { return xts.Encrypt(s, run, run); }, progress));
  // The journal may hold a chunk of plaintext: drop it before the header
  // says "done", so that a crash in between leaves a resumable state whose
  // rerun drops it.
  RETURN_IF_ERROR(DropJournal(store->fd()));
  h.operation = Operation::kNone;
  h.checkpoint = 0;
  return store->Update(&h, mac_key);
}

Status EncryptToFile(const std::string& raw, const std::string& out, const SecretBytes& kek,
                     const KekRef& ref) {
  RETURN_IF_ERROR(CheckKek(kek));
  RETURN_IF_ERROR(CheckNew(out));
  ASSIGN_OR_RETURN(UniqueFd in, internal::OpenFile(raw, O_RDONLY));
  ASSIGN_OR_RETURN(uint64_t size, internal::FileSize(in.get()));
  RETURN_IF_ERROR(CheckImageSize(size, raw));
  ASSIGN_OR_RETURN(SecretBytes dek, GenerateDek());
  ASSIGN_OR_RETURN(Header h, NewHeader(size, false, dek, kek, ref));
  ASSIGN_OR_RETURN(SecretBytes mac_key, DeriveMacKey(dek, h.uuid));
  ASSIGN_OR_RETURN(crypto::XtsAes256 xts, crypto::XtsAes256::Create(dek));
  const std::string tmp = out + ".partial";
  ASSIGN_OR_RETURN(UniqueFd fd, internal::OpenFile(tmp, O_RDWR | O_CREAT | O_TRUNC, 0600));
  if (ftruncate(fd.get(), static_cast<off_t>(kAttachedDataOffset + size)) != 0) {
    return InternalError("cannot size " + tmp);
  }
  RETURN_IF_ERROR(HeaderStore::WriteInitial(fd.get(), h, mac_key));
  std::vector<uint8_t> buf(kChunkSize);
  for (uint64_t off = 0; off < size; off += kChunkSize) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kChunkSize, size - off));
    std::span<uint8_t> chunk(buf.data(), n);
    RETURN_IF_ERROR(internal::PreadExact(in.get(), chunk, off, "raw image"));
    if (internal::IsAllZero(chunk)) continue;  // stays a hole
    RETURN_IF_ERROR(internal::ForEachNonZeroRun(
        off / kSectorSize, chunk,
        [&xts](uint64_t s, std::span<uint8_t> run) { return xts.Encrypt(s, run, run); }));
    RETURN_IF_ERROR(
        internal::StoreSectors(fd.get(), kAttachedDataOffset, off / kSectorSize, chunk));
  }
  return Commit(fd.get(), tmp, out);
}

namespace {

// Writes the plaintext of the open `disk` to a new raw image `out` (through
// out.partial, renamed when complete).
Status WritePlaintext(EncryptedDisk* disk, const std::string& out) {
  const std::string tmp = out + ".partial";
  ASSIGN_OR_RETURN(UniqueFd fd, internal::OpenFile(tmp, O_RDWR | O_CREAT | O_TRUNC, 0600));
  if (ftruncate(fd.get(), static_cast<off_t>(disk->size())) != 0) {
    return InternalError("cannot size " + tmp);
  }
  std::vector<uint8_t> buf(kChunkSize);
  for (uint64_t off = 0; off < disk->size(); off += kChunkSize) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kChunkSize, disk->size() - off));
    std::span<uint8_t> chunk(buf.data(), n);
    RETURN_IF_ERROR(disk->Read(off, chunk));
    RETURN_IF_ERROR(internal::StoreSectors(fd.get(), 0, off / kSectorSize, chunk));
  }
  return Commit(fd.get(), tmp, out);
}

Result<std::unique_ptr<EncryptedDisk>> OpenReadOnly(const std::string& path,
                                                    const SecretBytes& kek) {
  OpenOptions options;
  options.read_only = true;
  return EncryptedDisk::Open(path, SingleKek(kek), options);
}

}  // namespace

Status DecryptToFile(const std::string& path, const std::string& out, const SecretBytes& kek) {
  RETURN_IF_ERROR(CheckKek(kek));
  RETURN_IF_ERROR(CheckNew(out));
  ASSIGN_OR_RETURN(std::unique_ptr<EncryptedDisk> disk, OpenReadOnly(path, kek));
  return WritePlaintext(disk.get(), out);
}

Status DecryptInPlace(const std::string& path, const SecretBytes& kek, const ProgressFn& progress) {
  RETURN_IF_ERROR(CheckKek(kek));
  ASSIGN_OR_RETURN(DiskPaths paths, LocateDisk(path));
  if (!paths.detached) {
    const std::string tmp = path + ".decrypted";
    if (Exists(tmp)) unlink(tmp.c_str());  // a leftover of an interrupted run
    // The shared lock of the read-only disk keeps writers out until the
    // plaintext has replaced it.
    ASSIGN_OR_RETURN(std::unique_ptr<EncryptedDisk> disk, OpenReadOnly(path, kek));
    RETURN_IF_ERROR(WritePlaintext(disk.get(), tmp));
    if (rename(tmp.c_str(), path.c_str()) != 0)
      return InternalError("rename to " + path + " failed");
    return internal::SyncParentDir(path);
  }
  ASSIGN_OR_RETURN(std::unique_ptr<HeaderStore> store, HeaderStore::Open(paths.header_path, true));
  RETURN_IF_ERROR(internal::LockDisk(store->fd(), true, path));
  ASSIGN_OR_RETURN(HeaderStore::Loaded loaded, store->Load(SingleKek(kek)));
  Header& h = loaded.header;
  ASSIGN_OR_RETURN(SecretBytes mac_key, DeriveMacKey(loaded.dek, h.uuid));
  if (h.operation == Operation::kNone) {
    h.operation = Operation::kDecrypt;
    h.checkpoint = 0;
    RETURN_IF_ERROR(store->Update(&h, mac_key));
  } else if (h.operation != Operation::kDecrypt) {
    return FailedPreconditionError(path + ": an unfinished " +
                                   std::string(OperationName(h.operation)) + " is recorded");
  }
  ASSIGN_OR_RETURN(UniqueFd data, internal::OpenFile(paths.data_path, O_RDWR));
  ASSIGN_OR_RETURN(crypto::XtsAes256 xts, crypto::XtsAes256::Create(loaded.dek));
  RETURN_IF_ERROR(RunConversion(
      *store, &h, mac_key, data.get(),
      [&xts](uint64_t s, std::span<uint8_t> run) { return xts.Decrypt(s, run, run); }, progress));
  if (unlink(paths.header_path.c_str()) != 0) {
    return InternalError("cannot remove " + paths.header_path);
  }
  return internal::SyncParentDir(paths.header_path);
}

Status ShallowRekey(const std::string& path, const SecretBytes& kek, const SecretBytes& new_kek,
                    const KekRef& new_ref) {
  RETURN_IF_ERROR(CheckKek(kek));
  RETURN_IF_ERROR(CheckKek(new_kek));
  ASSIGN_OR_RETURN(DiskPaths paths, LocateDisk(path));
  ASSIGN_OR_RETURN(std::unique_ptr<HeaderStore> store, HeaderStore::Open(paths.header_path, true));
  RETURN_IF_ERROR(internal::LockDisk(store->fd(), true, path));
  ASSIGN_OR_RETURN(HeaderStore::Loaded loaded, store->Load(SingleKek(kek)));
  Header& h = loaded.header;
  if (h.operation != Operation::kNone) {
    return FailedPreconditionError(path + ": an unfinished " +
                                   std::string(OperationName(h.operation)) +
                                   " is recorded; finish it first");
  }
  ASSIGN_OR_RETURN(KeySafeEntry e, WrapDek(loaded.dek, new_kek, KeyRole::kCurrent,
                                           new_ref.provider_id, new_ref.key_id));
  h.entries.clear();
  h.entries.push_back(std::move(e));
  ASSIGN_OR_RETURN(SecretBytes mac_key, DeriveMacKey(loaded.dek, h.uuid));
  return store->Update(&h, mac_key);
}

Status DeepRekey(const std::string& path, const SecretBytes& kek, const ProgressFn& progress) {
  RETURN_IF_ERROR(CheckKek(kek));
  ASSIGN_OR_RETURN(std::unique_ptr<EncryptedDisk> disk, EncryptedDisk::Open(path, SingleKek(kek)));
  RETURN_IF_ERROR(disk->BeginDeepRekey(kek));
  for (;;) {
    ASSIGN_OR_RETURN(bool done, disk->DeepRekeyStep());
    if (progress)
      progress(done ? disk->chunk_count() : disk->rekey_checkpoint(), disk->chunk_count());
    if (done) return OkStatus();
  }
}

}  // namespace vmcrypt::disk
