// Chunk conversion under journal protection (docs/disk-format.md
// "Operations and crash safety"), shared by in-place encryption and
// decryption and by deep rekey. Internal to src/disk.
#ifndef VMCRYPT_SRC_DISK_CONVERT_H_
#define VMCRYPT_SRC_DISK_CONVERT_H_

#include <cstdint>
#include <functional>
#include <span>

#include "vmcrypt/base/secret_bytes.h"
#include "vmcrypt/base/status.h"
#include "vmcrypt/disk/header.h"
#include "vmcrypt/disk/header_store.h"

namespace vmcrypt::disk::internal {

// Converts a run of whole, non-zero sectors in place; `first_sector` is the
// disk sector number of the run's first sector.
using SectorTransform = std::function<Status(uint64_t first_sector, std::span<uint8_t> sectors)>;

// Converts chunk h->checkpoint (steps 1-4): reads it (from the journal when
// h->journal_valid), journals it, converts its non-zero sectors with
// `transform`, stores it (zero sectors as holes), and advances the
// checkpoint. Zero chunks skip the journal. On return h->checkpoint has grown
// by one and the header on disk says so. `mac_key` authenticates the header.
Status ConvertChunk(HeaderStore& store, Header* h, const SecretBytes& mac_key, int data_fd,
                    const SectorTransform& transform);

// Writes `sectors` (whole sectors, ciphertext or plaintext) at disk sector
// `first_sector`: runs of zero sectors become holes, the rest is written.
Status StoreSectors(int data_fd, uint64_t data_offset, uint64_t first_sector,
                    std::span<const uint8_t> sectors);

// Calls `fn` for each maximal run of non-zero sectors of `sectors`.
Status ForEachNonZeroRun(uint64_t first_sector, std::span<uint8_t> sectors,
                         const SectorTransform& fn);

}  // namespace vmcrypt::disk::internal

#endif  // VMCRYPT_SRC_DISK_CONVERT_H_
