// The header of a vmcrypt encrypted disk (docs/disk-format.md, normative):
// its in-memory form, the byte encoding of one header copy, the key safe
// (DEKs wrapped by KEKs with RFC 5649) and the header MAC.
//
// Decoding reads untrusted bytes through ByteReader; every field is checked
// against the limits of the format. Nothing here touches files (see
// header_store.h) and no function returns or logs key bytes except the
// unwrap, whose result is a SecretBytes.
//
// Thread-safety: free functions and values.
#ifndef VMCRYPT_DISK_HEADER_H_
#define VMCRYPT_DISK_HEADER_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "vmcrypt/base/secret_bytes.h"
#include "vmcrypt/base/status.h"

namespace vmcrypt::disk {

// Format constants (docs/disk-format.md, "Files" and "Header copy").
inline constexpr uint32_t kSectorSize = 4096;
inline constexpr size_t kHeaderCopySize = 4096;
inline constexpr uint64_t kHeaderCopyOffsets[2] = {0, 4096};
inline constexpr uint64_t kJournalOffset = uint64_t{1} << 20;
inline constexpr uint32_t kChunkSize = uint32_t{1} << 20;
inline constexpr uint64_t kHeaderRegionSize = uint64_t{2} << 20;
inline constexpr uint64_t kAttachedDataOffset = kHeaderRegionSize;
inline constexpr uint64_t kMaxDiskSize = uint64_t{1} << 50;
inline constexpr size_t kMaxKeySafeEntries = 4;
inline constexpr size_t kMaxProviderIdSize = 255;
inline constexpr size_t kMaxKeyIdSize = 512;
inline constexpr size_t kDekSize = 64;
inline constexpr size_t kWrappedDekSize = 72;
inline constexpr char kMagic[8] = {'V', 'M', 'C', 'R', 'Y', 'P', 'T', 'D'};

enum class KeyRole : uint8_t { kCurrent = 1, kNext = 2 };
enum class WrapAlgorithm : uint8_t { kAes256KeyWrapPad = 1 };
enum class Operation : uint8_t { kNone = 0, kEncrypt = 1, kDeepRekey = 2, kDecrypt = 3 };

// "none", "in-place encryption", "deep rekey", "in-place decryption".
const char* OperationName(Operation op);

struct KeySafeEntry {
  KeyRole role = KeyRole::kCurrent;
  WrapAlgorithm wrap = WrapAlgorithm::kAes256KeyWrapPad;
  std::string provider_id;
  std::string key_id;
  std::vector<uint8_t> wrapped_dek;  // not secret: RFC 5649 output
};

struct Header {
  uint64_t sequence = 0;
  std::array<uint8_t, 16> uuid{};
  uint64_t size = 0;
  uint64_t data_offset = 0;
  bool detached = false;
  Operation operation = Operation::kNone;
  uint64_t checkpoint = 0;  // in chunks
  bool journal_valid = false;
  std::array<uint8_t, 32> journal_sha256{};
  std::vector<KeySafeEntry> entries;

  // The first entry with `role`, or nullptr.
  const KeySafeEntry* Find(KeyRole role) const;
  uint64_t chunk_count() const { return (size + kChunkSize - 1) / kChunkSize; }
};

// A header copy that passed the structural checks (magic, version, checksum,
// field limits). Its MAC is not verified yet.
struct DecodedHeader {
  Header header;
  std::vector<uint8_t> mac_input;  // the bytes the MAC covers
  std::array<uint8_t, 32> mac{};
};

// Checks the invariants of the format on `h` (sizes, offsets, entries, the
// operation and its entries). InvalidArgument names the first violation.
Status ValidateHeader(const Header& h);

// Encodes `h` into one kHeaderCopySize-byte copy with its MAC (under
// `mac_key`) and checksum. Errors: ValidateHeader's.
Result<std::vector<uint8_t>> EncodeHeader(const Header& h, const SecretBytes& mac_key);

// Decodes one copy. DataLoss says what is wrong (bad magic, checksum
// mismatch, a field out of range, truncation). Never verifies the MAC.
Result<DecodedHeader> DecodeHeader(std::span<const uint8_t> copy);

// HKDF-SHA-256(DEK, salt = uuid, info = "vmcrypt disk header mac v1"), 32
// bytes (docs/disk-format.md "Keys").
Result<SecretBytes> DeriveMacKey(const SecretBytes& dek, const std::array<uint8_t, 16>& uuid);

// Checks the copy's MAC in constant time. DataLoss "header authentication
// failed" on mismatch.
Status VerifyHeaderMac(const DecodedHeader& d, const SecretBytes& mac_key);

// A fresh random 64-byte XTS-AES-256 DEK whose halves differ.
Result<SecretBytes> GenerateDek();

// Wraps `dek` under the 32-byte `kek` (RFC 5649) into an entry.
Result<KeySafeEntry> WrapDek(const SecretBytes& dek, const SecretBytes& kek, KeyRole role,
                             std::string provider_id, std::string key_id);

// Unwraps an entry's DEK. A KEK that does not fit (or a damaged entry) is
// PermissionDenied naming the provider id and key id.
Result<SecretBytes> UnwrapDek(const KeySafeEntry& entry, const SecretBytes& kek);

// Random RFC 4122 version 4 UUID, and its text form.
Result<std::array<uint8_t, 16>> NewUuid();
std::string UuidToString(const std::array<uint8_t, 16>& uuid);

// SHA-256 of `data`.
std::array<uint8_t, 32> Sha256(std::span<const uint8_t> data);

}  // namespace vmcrypt::disk

#endif  // VMCRYPT_DISK_HEADER_H_
