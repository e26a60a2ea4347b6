// Header encoding and the key safe (docs/disk-format.md "Header copy").
#include "vmcrypt/disk/header.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstring>
#include <string_view>

#include "vmcrypt/base/byte_reader.h"
#include "vmcrypt/crypto/kdf.h"
#include "vmcrypt/crypto/key_wrap.h"
#include "vmcrypt/crypto/random.h"

namespace vmcrypt::disk {
namespace {

constexpr uint16_t kVersion = 1;
constexpr uint16_t kCipherXtsAes256 = 1;
constexpr size_t kFixedPartSize = 136;
constexpr size_t kTrailerSize = 64;  // MAC + checksum
constexpr std::string_view kMacInfo = "vmcrypt disk header mac v1";

void PutU8(std::vector<uint8_t>& out, uint8_t v) { out.push_back(v); }
void PutU16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}
void PutU32(std::vector<uint8_t>& out, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<uint8_t>(v >> s));
}
void PutU64(std::vector<uint8_t>& out, uint64_t v) {
  for (int s = 56; s >= 0; s -= 8) out.push_back(static_cast<uint8_t>(v >> s));
}
void PutBytes(std::vector<uint8_t>& out, std::span<const uint8_t> b) {
  out.insert(out.end(), b.begin(), b.end());
}
void PutString(std::vector<uint8_t>& out, std::string_view s) {
  PutU16(out, static_cast<uint16_t>(s.size()));
  out.insert(out.end(), s.begin(), s.end());
}

Result<uint16_t> ReadU16(ByteReader& r, std::string_view what) {
  ASSIGN_OR_RETURN(auto b, r.ReadBytes(2, what));
  return static_cast<uint16_t>((b[0] << 8) | b[1]);
}

Status ExpectZeros(ByteReader& r, size_t n) {
  ASSIGN_OR_RETURN(auto b, r.ReadBytes(n, "reserved bytes"));
  if (std::any_of(b.begin(), b.end(), [](uint8_t x) { return x != 0; })) {
    return DataLossError("reserved bytes at offset " + std::to_string(r.offset() - n) +
                         " are not zero");
  }
  return OkStatus();
}

Status Corrupt(const Status& s) { return DataLossError(s.message()); }

Result<KeySafeEntry> ReadEntry(ByteReader& r) {
  KeySafeEntry e;
  ASSIGN_OR_RETURN(uint8_t role, r.ReadU8("key safe role"));
  if (role != 1 && role != 2) return DataLossError("unknown key safe role " + std::to_string(role));
  e.role = static_cast<KeyRole>(role);
  ASSIGN_OR_RETURN(uint8_t wrap, r.ReadU8("wrap algorithm"));
  if (wrap != 1) return DataLossError("unknown wrap algorithm " + std::to_string(wrap));
  ASSIGN_OR_RETURN(uint16_t plen, ReadU16(r, "provider id length"));
  if (plen > kMaxProviderIdSize) return DataLossError("provider id too long");
  ASSIGN_OR_RETURN(auto p, r.ReadBytes(plen, "provider id"));
  e.provider_id.assign(p.begin(), p.end());
  ASSIGN_OR_RETURN(uint16_t klen, ReadU16(r, "key id length"));
  if (klen == 0 || klen > kMaxKeyIdSize) return DataLossError("key id length out of range");
  ASSIGN_OR_RETURN(auto k, r.ReadBytes(klen, "key id"));
  e.key_id.assign(k.begin(), k.end());
  ASSIGN_OR_RETURN(uint16_t wlen, ReadU16(r, "wrapped key length"));
  if (wlen != kWrappedDekSize) return DataLossError("wrapped key length must be 72");
  ASSIGN_OR_RETURN(auto w, r.ReadBytes(wlen, "wrapped key"));
  e.wrapped_dek.assign(w.begin(), w.end());
  return e;
}

}  // namespace

const char* OperationName(Operation op) {
  switch (op) {
    case Operation::kNone:
      return "none";
    case Operation::kEncrypt:
      return "in-place encryption";
    case Operation::kDeepRekey:
      return "deep rekey";
    case Operation::kDecrypt:
      return "in-place decryption";
    default:
      return "unknown";
  }
}

const KeySafeEntry* Header::Find(KeyRole role) const {
  for (const KeySafeEntry& e : entries) {
    if (e.role == role) return &e;
  }
  return nullptr;
}

Status ValidateHeader(const Header& h) {
  if (h.size == 0 || h.size % kSectorSize != 0 || h.size > kMaxDiskSize) {
    return InvalidArgumentError("disk size must be a non-zero multiple of 4096 up to 1 PiB");
  }
  if (h.detached ? h.data_offset != 0 : h.data_offset != kAttachedDataOffset) {
    return InvalidArgumentError("data offset does not match the header variant");
  }
  if (h.entries.empty() || h.entries.size() > kMaxKeySafeEntries) {
    return InvalidArgumentError("key safe must hold 1 to 4 entries");
  }
  for (const KeySafeEntry& e : h.entries) {
    if (e.provider_id.size() > kMaxProviderIdSize) {
      return InvalidArgumentError("provider id longer than 255 bytes");
    }
    if (e.key_id.empty() || e.key_id.size() > kMaxKeyIdSize) {
      return InvalidArgumentError("key id must be 1 to 512 bytes");
    }
    if (e.wrapped_dek.size() != kWrappedDekSize) {
      return InvalidArgumentError("wrapped key must be 72 bytes");
    }
  }
  if (h.Find(KeyRole::kCurrent) == nullptr) {
    return InvalidArgumentError("key safe has no current key");
  }
  const bool has_next = h.Find(KeyRole::kNext) != nullptr;
  if (has_next != (h.operation == Operation::kDeepRekey)) {
    return InvalidArgumentError("a next key exists exactly while a deep rekey runs");
  }
  if (static_cast<uint8_t>(h.operation) > 3) return InvalidArgumentError("unknown operation");
  if (h.operation != Operation::kNone && h.checkpoint > h.chunk_count()) {
    return InvalidArgumentError("checkpoint beyond the last chunk");
  }
  if (h.operation == Operation::kNone && (h.checkpoint != 0 || h.journal_valid)) {
    return InvalidArgumentError("checkpoint or journal set without an operation");
  }
  if (h.journal_valid && h.checkpoint >= h.chunk_count()) {
    return InvalidArgumentError("journal names a chunk beyond the disk");
  }
  if ((h.operation == Operation::kEncrypt || h.operation == Operation::kDecrypt) && !h.detached) {
    return InvalidArgumentError("in-place conversion needs a detached header");
  }
  return OkStatus();
}

Result<std::vector<uint8_t>> EncodeHeader(const Header& h, const SecretBytes& mac_key) {
  RETURN_IF_ERROR(ValidateHeader(h));
  std::vector<uint8_t> out;
  out.reserve(kHeaderCopySize);
  PutBytes(out, std::span(reinterpret_cast<const uint8_t*>(kMagic), 8));
  PutU16(out, kVersion);
  PutU16(out, 0);  // header_length, patched below
  PutU32(out, h.detached ? 1 : 0);
  PutU64(out, h.sequence);
  PutBytes(out, h.uuid);
  PutU64(out, h.size);
  PutU64(out, h.data_offset);
  PutU32(out, kSectorSize);
  PutU16(out, kCipherXtsAes256);
  PutU16(out, static_cast<uint16_t>(h.entries.size()));
  PutU64(out, kJournalOffset);
  PutU32(out, kChunkSize);
  PutU32(out, 0);
  PutU8(out, static_cast<uint8_t>(h.operation));
  out.insert(out.end(), 7, 0);
  PutU64(out, h.checkpoint);
  PutU8(out, h.journal_valid ? 1 : 0);
  out.insert(out.end(), 7, 0);
  PutBytes(out, h.journal_sha256);
  for (const KeySafeEntry& e : h.entries) {
    PutU8(out, static_cast<uint8_t>(e.role));
    PutU8(out, static_cast<uint8_t>(e.wrap));
    PutString(out, e.provider_id);
    PutString(out, e.key_id);
    PutU16(out, static_cast<uint16_t>(e.wrapped_dek.size()));
    PutBytes(out, e.wrapped_dek);
  }
  const size_t length = out.size() + kTrailerSize;
  if (length > kHeaderCopySize) return InvalidArgumentError("header larger than 4096 bytes");
  out[10] = static_cast<uint8_t>(length >> 8);
  out[11] = static_cast<uint8_t>(length);
  ASSIGN_OR_RETURN(std::vector<uint8_t> mac,
                   crypto::Hmac(crypto::HashAlgorithm::kSha256, mac_key, out));
  PutBytes(out, mac);
  const std::array<uint8_t, 32> sum = Sha256(out);
  PutBytes(out, sum);
  out.resize(kHeaderCopySize, 0);
  return out;
}

Result<DecodedHeader> DecodeHeader(std::span<const uint8_t> copy) {
  if (copy.size() < kHeaderCopySize) {
    return DataLossError("header copy truncated: " + std::to_string(copy.size()) +
                         " of 4096 bytes");
  }
  if (std::memcmp(copy.data(), kMagic, 8) != 0) return DataLossError("bad magic");
  const uint16_t version = static_cast<uint16_t>((copy[8] << 8) | copy[9]);
  if (version != kVersion) {
    return DataLossError("unsupported header version " + std::to_string(version));
  }
  const size_t length = static_cast<size_t>((copy[10] << 8) | copy[11]);
  if (length < kFixedPartSize + kTrailerSize || length > kHeaderCopySize) {
    return DataLossError("header length out of range");
  }
  const std::array<uint8_t, 32> sum = Sha256(copy.first(length - 32));
  if (!crypto::ConstantTimeEquals(sum, copy.subspan(length - 32, 32))) {
    return DataLossError("header checksum mismatch");
  }
  // The checksum only guards against accidents; everything below is still
  // treated as untrusted (the MAC is what authenticates it).
  DecodedHeader d;
  Header& h = d.header;
  ByteReader r(copy.first(length - kTrailerSize));
  auto parse = [&]() -> Status {
    RETURN_IF_ERROR(r.Skip(12, "magic, version, length"));
    ASSIGN_OR_RETURN(uint32_t flags, r.ReadU32Be("flags"));
    if ((flags & ~1u) != 0) return DataLossError("unknown header flags");
    h.detached = (flags & 1) != 0;
    ASSIGN_OR_RETURN(h.sequence, r.ReadU64Be("sequence"));
    ASSIGN_OR_RETURN(auto uuid, r.ReadBytes(16, "uuid"));
    std::copy(uuid.begin(), uuid.end(), h.uuid.begin());
    ASSIGN_OR_RETURN(h.size, r.ReadU64Be("size"));
    ASSIGN_OR_RETURN(h.data_offset, r.ReadU64Be("data offset"));
    ASSIGN_OR_RETURN(uint32_t sector_size, r.ReadU32Be("sector size"));
    if (sector_size != kSectorSize) return DataLossError("sector size must be 4096");
    ASSIGN_OR_RETURN(uint16_t cipher, ReadU16(r, "cipher"));
    if (cipher != kCipherXtsAes256)
      return DataLossError("unknown cipher " + std::to_string(cipher));
    ASSIGN_OR_RETURN(uint16_t count, ReadU16(r, "entry count"));
    if (count == 0 || count > kMaxKeySafeEntries) return DataLossError("entry count out of range");
    ASSIGN_OR_RETURN(uint64_t journal_offset, r.ReadU64Be("journal offset"));
    ASSIGN_OR_RETURN(uint32_t chunk_size, r.ReadU32Be("chunk size"));
    if (journal_offset != kJournalOffset || chunk_size != kChunkSize) {
      return DataLossError("unsupported journal layout");
    }
    RETURN_IF_ERROR(ExpectZeros(r, 4));
    ASSIGN_OR_RETURN(uint8_t op, r.ReadU8("operation"));
    if (op > 3) return DataLossError("unknown operation " + std::to_string(op));
    h.operation = static_cast<Operation>(op);
    RETURN_IF_ERROR(ExpectZeros(r, 7));
    ASSIGN_OR_RETURN(h.checkpoint, r.ReadU64Be("checkpoint"));
    ASSIGN_OR_RETURN(uint8_t journal_state, r.ReadU8("journal state"));
    if (journal_state > 1) return DataLossError("unknown journal state");
    h.journal_valid = journal_state == 1;
    RETURN_IF_ERROR(ExpectZeros(r, 7));
    ASSIGN_OR_RETURN(auto jsum, r.ReadBytes(32, "journal checksum"));
    std::copy(jsum.begin(), jsum.end(), h.journal_sha256.begin());
    for (uint16_t i = 0; i < count; ++i) {
      ASSIGN_OR_RETURN(KeySafeEntry e, ReadEntry(r));
      h.entries.push_back(std::move(e));
    }
    if (!r.empty()) return DataLossError("trailing bytes after the key safe");
    return OkStatus();
  };
  Status s = parse();
  if (!s.ok()) return Corrupt(s);
  s = ValidateHeader(h);
  if (!s.ok()) return Corrupt(s);
  d.mac_input.assign(copy.begin(), copy.begin() + (length - kTrailerSize));
  std::copy_n(copy.begin() + (length - kTrailerSize), 32, d.mac.begin());
  return d;
}

Result<SecretBytes> DeriveMacKey(const SecretBytes& dek, const std::array<uint8_t, 16>& uuid) {
  return crypto::HkdfSha256(
      dek, uuid, std::span(reinterpret_cast<const uint8_t*>(kMacInfo.data()), kMacInfo.size()), 32);
}

Status VerifyHeaderMac(const DecodedHeader& d, const SecretBytes& mac_key) {
  ASSIGN_OR_RETURN(std::vector<uint8_t> mac,
                   crypto::Hmac(crypto::HashAlgorithm::kSha256, mac_key, d.mac_input));
  if (!crypto::ConstantTimeEquals(mac, d.mac)) {
    return DataLossError("header authentication failed: the header was modified");
  }
  return OkStatus();
}

Result<SecretBytes> GenerateDek() {
  for (;;) {
    ASSIGN_OR_RETURN(SecretBytes dek, crypto::RandomSecret(kDekSize));
    // XTS refuses equal halves (probability 2^-256; redraw rather than fail).
    if (!crypto::ConstantTimeEquals(dek.span().first(32), dek.span().subspan(32))) return dek;
  }
}

Result<KeySafeEntry> WrapDek(const SecretBytes& dek, const SecretBytes& kek, KeyRole role,
                             std::string provider_id, std::string key_id) {
  if (kek.size() != 32) return InvalidArgumentError("a KEK must be 32 bytes (AES-256)");
  ASSIGN_OR_RETURN(std::vector<uint8_t> wrapped, crypto::AesKeyWrapPad(kek, dek.span()));
  KeySafeEntry e;
  e.role = role;
  e.provider_id = std::move(provider_id);
  e.key_id = std::move(key_id);
  e.wrapped_dek = std::move(wrapped);
  return e;
}

Result<SecretBytes> UnwrapDek(const KeySafeEntry& entry, const SecretBytes& kek) {
  const std::string who = "provider \"" + entry.provider_id + "\", key id \"" + entry.key_id + "\"";
  if (kek.size() != 32) return InvalidArgumentError("the KEK for " + who + " is not 32 bytes");
  auto dek = crypto::AesKeyUnwrapPad(kek, entry.wrapped_dek);
  if (!dek.ok() || dek->size() != kDekSize) {
    return PermissionDeniedError("cannot unwrap the disk key with the KEK given for " + who +
                                 ": wrong KEK, or the key safe entry is damaged");
  }
  return std::move(dek).value();
}

Result<std::array<uint8_t, 16>> NewUuid() {
  std::array<uint8_t, 16> u{};
  RETURN_IF_ERROR(crypto::RandomBytes(u));
  u[6] = static_cast<uint8_t>((u[6] & 0x0f) | 0x40);  // RFC 4122 §4.4
  u[8] = static_cast<uint8_t>((u[8] & 0x3f) | 0x80);
  return u;
}

std::string UuidToString(const std::array<uint8_t, 16>& uuid) {
  static const char kHex[] = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s += '-';
    s += kHex[uuid[i] >> 4];
    s += kHex[uuid[i] & 15];
  }
  return s;
}

std::array<uint8_t, 32> Sha256(std::span<const uint8_t> data) {
  std::array<uint8_t, 32> out{};
  size_t n = 0;
  if (EVP_Q_digest(nullptr, "SHA256", nullptr, data.data(), data.size(), out.data(), &n) != 1) {
    std::abort();  // SHA-256 is always available in the default provider
  }
  return out;
}

}  // namespace vmcrypt::disk
