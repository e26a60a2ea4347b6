// Reading, choosing, repairing and updating the two header copies
// (docs/disk-format.md "Validation, in order" and "Two copies").
#include "vmcrypt/disk/header_store.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "src/disk/io.h"

namespace vmcrypt::disk {

KekLookup SingleKek(const SecretBytes& kek) {
  auto copy = std::make_shared<SecretBytes>(kek.Clone());
  return [copy](const KeySafeEntry&) -> Result<SecretBytes> { return copy->Clone(); };
}

Result<DiskPaths> LocateDisk(const std::string& path) {
  ASSIGN_OR_RETURN(internal::UniqueFd fd, internal::OpenFile(path, O_RDONLY));
  for (uint64_t off : kHeaderCopyOffsets) {
    uint8_t magic[8] = {};
    ssize_t n = pread(fd.get(), magic, sizeof(magic), static_cast<off_t>(off));
    if (n == sizeof(magic) && std::memcmp(magic, kMagic, 8) == 0) {
      return DiskPaths{path, path, false};
    }
  }
  const std::string hdr = path + ".hdr";
  struct stat st {};
  if (stat(hdr.c_str(), &st) == 0) return DiskPaths{path, hdr, true};
  return InvalidArgumentError(path + " is not a vmcrypt disk (no header in it, and no " + hdr +
                              ")");
}

Result<std::unique_ptr<HeaderStore>> HeaderStore::Open(const std::string& header_path,
                                                       bool writable) {
  ASSIGN_OR_RETURN(internal::UniqueFd fd,
                   internal::OpenFile(header_path, writable ? O_RDWR : O_RDONLY));
  return std::unique_ptr<HeaderStore>(new HeaderStore(fd.Release(), writable));
}

HeaderStore::~HeaderStore() { close(fd_); }

Status HeaderStore::WriteInitial(int fd, Header h, const SecretBytes& mac_key) {
  h.sequence = 1;
  ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, EncodeHeader(h, mac_key));
  for (uint64_t off : kHeaderCopyOffsets) {
    RETURN_IF_ERROR(internal::PwriteAll(fd, bytes, off, "header"));
  }
  return internal::SyncData(fd, "header");
}

Result<Header> HeaderStore::LoadUnverified(std::array<CopyState, 2>* states) {
  std::array<CopyState, 2> local;
  if (states == nullptr) states = &local;
  std::optional<Header> best;
  for (int i = 0; i < 2; ++i) {
    std::vector<uint8_t> buf(kHeaderCopySize);
    auto read = internal::PreadAll(fd_, buf, kHeaderCopyOffsets[i], "header");
    if (!read.ok()) {
      (*states)[i].error = read.status().message();
      continue;
    }
    buf.resize(*read);
    auto d = DecodeHeader(buf);
    if (!d.ok()) {
      (*states)[i].error = d.status().message();
      continue;
    }
    (*states)[i].valid = true;
    (*states)[i].sequence = d->header.sequence;
    if (!best || d->header.sequence > best->sequence) best = d->header;
  }
  if (!best) {
    return DataLossError("no valid header (copy A: " + (*states)[0].error +
                         "; copy B: " + (*states)[1].error + ")");
  }
  return *best;
}

Result<HeaderStore::Loaded> HeaderStore::Load(const KekLookup& kek) {
  std::array<std::optional<DecodedHeader>, 2> copies;
  std::array<std::vector<uint8_t>, 2> raw;
  std::array<std::string, 2> errors;
  for (int i = 0; i < 2; ++i) {
    raw[i].resize(kHeaderCopySize);
    auto read = internal::PreadAll(fd_, raw[i], kHeaderCopyOffsets[i], "header");
    if (!read.ok()) {
      errors[i] = read.status().message();
      continue;
    }
    raw[i].resize(*read);
    auto d = DecodeHeader(raw[i]);
    if (!d.ok()) {
      errors[i] = d.status().message();
      continue;
    }
    copies[i] = std::move(d).value();
  }
  if (!copies[0] && !copies[1]) {
    return DataLossError("no valid header (copy A: " + errors[0] + "; copy B: " + errors[1] + ")");
  }
  // Newest first.
  std::vector<int> order;
  for (int i = 0; i < 2; ++i) {
    if (copies[i]) order.push_back(i);
  }
  if (order.size() == 2 && copies[1]->header.sequence > copies[0]->header.sequence) {
    std::swap(order[0], order[1]);
  }
  // An older copy may stand in for the newest only when the newest failed
  // authentication (damage or tampering), or when both name the same KEKs
  // (then an unwrap failure of the newest is damage to its key safe, not a
  // rekey). After a shallow rekey interrupted between the two copy writes,
  // the old KEK therefore does not open the disk (nor roll the rekey back).
  auto current_ids = [](const Header& h) {
    std::vector<std::pair<std::string, std::string>> ids;
    for (const KeySafeEntry& e : h.entries) {
      if (e.role == KeyRole::kCurrent) ids.emplace_back(e.provider_id, e.key_id);
    }
    std::sort(ids.begin(), ids.end());
    return ids;
  };
  const auto newest_ids = current_ids(copies[order[0]]->header);
  bool newest_failed_mac = false;
  Status last_error;
  for (int i : order) {
    const Header& h = copies[i]->header;
    if (i != order[0] && !newest_failed_mac && current_ids(h) != newest_ids) break;
    // Unwrap the current DEK: any role-1 entry whose KEK is available.
    std::optional<SecretBytes> dek;
    for (const KeySafeEntry& e : h.entries) {
      if (e.role != KeyRole::kCurrent) continue;
      auto k = kek(e);
      if (!k.ok()) {
        last_error = k.status();
        continue;
      }
      auto d = UnwrapDek(e, *k);
      if (!d.ok()) {
        last_error = d.status();
        continue;
      }
      dek = std::move(d).value();
      break;
    }
    if (!dek) continue;
    ASSIGN_OR_RETURN(SecretBytes mac_key, DeriveMacKey(*dek, h.uuid));
    Status mac = VerifyHeaderMac(*copies[i], mac_key);
    if (!mac.ok()) {
      if (i == order[0]) newest_failed_mac = true;
      last_error = mac;
      continue;
    }
    Loaded out;
    out.header = h;
    out.dek = std::move(*dek);
    if (const KeySafeEntry* next = h.Find(KeyRole::kNext)) {
      ASSIGN_OR_RETURN(SecretBytes k, kek(*next));
      ASSIGN_OR_RETURN(out.next_dek, UnwrapDek(*next, k));
    }
    loaded_ = i;
    sequence_ = h.sequence;
    // Repair the other copy if it differs from the winner.
    const int other = 1 - i;
    const bool other_ok = raw[other].size() == kHeaderCopySize &&
                          std::equal(raw[other].begin(), raw[other].end(), raw[i].begin());
    if (!other_ok && writable_ && raw[i].size() == kHeaderCopySize) {
      RETURN_IF_ERROR(WriteCopy(other, raw[i]));
      RETURN_IF_ERROR(internal::SyncData(fd_, "header"));
      out.repaired = true;
    }
    return out;
  }
  if (last_error.ok()) return DataLossError("no usable header");
  return last_error;
}

Status HeaderStore::WriteCopy(int index, std::span<const uint8_t> bytes) {
  return internal::PwriteAll(fd_, bytes, kHeaderCopyOffsets[index], "header");
}

Status HeaderStore::Update(Header* h, const SecretBytes& mac_key) {
  if (!writable_) return FailedPreconditionError("the disk is open read-only");
  h->sequence = sequence_ + 1;
  ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, EncodeHeader(*h, mac_key));
  const int first = 1 - loaded_;
  RETURN_IF_ERROR(WriteCopy(first, bytes));
  RETURN_IF_ERROR(internal::SyncData(fd_, "header"));
  RETURN_IF_ERROR(WriteCopy(loaded_, bytes));
  RETURN_IF_ERROR(internal::SyncData(fd_, "header"));
  sequence_ = h->sequence;
  return OkStatus();
}

}  // namespace vmcrypt::disk
