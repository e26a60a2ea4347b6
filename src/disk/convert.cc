#include "src/disk/convert.h"

#include <algorithm>
#include <vector>

#include "src/disk/io.h"

namespace vmcrypt::disk::internal {

Status ForEachNonZeroRun(uint64_t first_sector, std::span<uint8_t> sectors,
                         const SectorTransform& fn) {
  const size_t n = sectors.size() / kSectorSize;
  size_t i = 0;
  while (i < n) {
    if (IsAllZero(sectors.subspan(i * kSectorSize, kSectorSize))) {
      ++i;
      continue;
    }
    size_t j = i + 1;
    while (j < n && !IsAllZero(sectors.subspan(j * kSectorSize, kSectorSize))) ++j;
    RETURN_IF_ERROR(fn(first_sector + i, sectors.subspan(i * kSectorSize, (j - i) * kSectorSize)));
    i = j;
  }
  return OkStatus();
}

Status StoreSectors(int data_fd, uint64_t data_offset, uint64_t first_sector,
                    std::span<const uint8_t> sectors) {
  const size_t n = sectors.size() / kSectorSize;
  size_t i = 0;
  while (i < n) {
    const bool zero = IsAllZero(sectors.subspan(i * kSectorSize, kSectorSize));
    size_t j = i + 1;
    while (j < n && IsAllZero(sectors.subspan(j * kSectorSize, kSectorSize)) == zero) ++j;
    const uint64_t off = data_offset + (first_sector + i) * kSectorSize;
    if (zero) {
      RETURN_IF_ERROR(PunchHole(data_fd, off, (j - i) * kSectorSize, "disk data"));
    } else {
      RETURN_IF_ERROR(PwriteAll(data_fd, sectors.subspan(i * kSectorSize, (j - i) * kSectorSize),
                                off, "disk data"));
    }
    i = j;
  }
  return OkStatus();
}

Status ConvertChunk(HeaderStore& store, Header* h, const SecretBytes& mac_key, int data_fd,
                    const SectorTransform& transform) {
  const uint64_t k = h->checkpoint;
  const uint64_t start = k * kChunkSize;
  const size_t bytes = static_cast<size_t>(std::min<uint64_t>(kChunkSize, h->size - start));
  const uint64_t first_sector = start / kSectorSize;
  std::vector<uint8_t> buf(bytes);
  bool journaled = false;
  if (h->journal_valid) {
    // Resuming after a crash between steps 2 and 4: the in-place bytes may
    // be half converted; the journal holds the originals.
    RETURN_IF_ERROR(PreadExact(store.fd(), buf, kJournalOffset, "journal"));
    if (Sha256(buf) != h->journal_sha256) {
      return DataLossError("the conversion journal of chunk " + std::to_string(k) +
                           " does not match its checksum");
    }
    journaled = true;
  } else {
    RETURN_IF_ERROR(PreadExact(data_fd, buf, h->data_offset + start, "disk data"));
  }
  if (IsAllZero(buf)) {
    // Unwritten sectors read as zeros under any key: nothing to convert.
    if (journaled) RETURN_IF_ERROR(StoreSectors(data_fd, h->data_offset, first_sector, buf));
    if (journaled) RETURN_IF_ERROR(SyncData(data_fd, "disk data"));
    h->checkpoint = k + 1;
    h->journal_valid = false;
    h->journal_sha256 = {};
    return store.Update(h, mac_key);
  }
  if (!journaled) {
    // Step 1: the originals, durable before the header names them.
    RETURN_IF_ERROR(PwriteAll(store.fd(), buf, kJournalOffset, "journal"));
    RETURN_IF_ERROR(SyncData(store.fd(), "journal"));
    // Step 2.
    h->journal_valid = true;
    h->journal_sha256 = Sha256(buf);
    RETURN_IF_ERROR(store.Update(h, mac_key));
  }
  // Step 3.
  RETURN_IF_ERROR(ForEachNonZeroRun(first_sector, buf, transform));
  RETURN_IF_ERROR(StoreSectors(data_fd, h->data_offset, first_sector, buf));
  RETURN_IF_ERROR(SyncData(data_fd, "disk data"));
  // Step 4.
  h->checkpoint = k + 1;
  h->journal_valid = false;
  h->journal_sha256 = {};
  return store.Update(h, mac_key);
}

}  // namespace vmcrypt::disk::internal
