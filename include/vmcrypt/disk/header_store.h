// HeaderStore: the two header copies of a disk in their file, read and
// written as docs/disk-format.md ("Validation", "Two copies") specifies.
//
// Also: LocateDisk, which tells an attached disk from a detached one, and
// KekLookup, through which the caller supplies KEKs by (provider, key id).
//
// Thread-safety: a HeaderStore is used by one thread at a time (EncryptedDisk
// serialises its header updates).
#ifndef VMCRYPT_DISK_HEADER_STORE_H_
#define VMCRYPT_DISK_HEADER_STORE_H_

#include <array>
#include <functional>
#include <memory>
#include <string>

#include "vmcrypt/base/secret_bytes.h"
#include "vmcrypt/base/status.h"
#include "vmcrypt/disk/header.h"

namespace vmcrypt::disk {

// Returns the KEK (32 bytes) for a key safe entry, or an error (e.g.
// NotFound "key not found: provider P, key id K").
using KekLookup = std::function<Result<SecretBytes>(const KeySafeEntry&)>;

// A lookup that hands the same KEK to every entry (the offline tool's
// --kek-file). The copy of the key lives as long as the returned function.
KekLookup SingleKek(const SecretBytes& kek);

struct DiskPaths {
  std::string data_path;    // the sectors (FILE)
  std::string header_path;  // FILE (attached) or FILE.hdr (detached)
  bool detached = false;
};

// Decides the variant of the disk at `path` (docs/disk-format.md "Files").
// NotFound if `path` does not exist; InvalidArgument if it is not a vmcrypt
// disk.
Result<DiskPaths> LocateDisk(const std::string& path);

// The state of one header copy as found on disk.
struct CopyState {
  bool valid = false;
  std::string error;  // why it is invalid (structural checks only)
  uint64_t sequence = 0;
};

class HeaderStore {
 public:
  // Opens the header file read-only or read-write.
  static Result<std::unique_ptr<HeaderStore>> Open(const std::string& header_path, bool writable);
  // Writes both copies of a new header into an empty (or to-be-overwritten)
  // header region of `fd`, with sequence 1, and syncs.
  static Status WriteInitial(int fd, Header h, const SecretBytes& mac_key);
  ~HeaderStore();
  HeaderStore(const HeaderStore&) = delete;
  HeaderStore& operator=(const HeaderStore&) = delete;

  // Structural checks only (no KEK): the newest structurally valid copy.
  // DataLoss "no valid header" if neither copy is.
  Result<Header> LoadUnverified(std::array<CopyState, 2>* states);

  struct Loaded {
    Header header;
    SecretBytes dek;        // role 1
    SecretBytes next_dek;   // role 2, while a deep rekey runs; else empty
    bool repaired = false;  // the other copy was rewritten
  };
  // Full validation; repairs the other copy when writable.
  Result<Loaded> Load(const KekLookup& kek);

  // Writes `h` with sequence = current + 1 (set in `*h`) to the copy not
  // loaded first, syncs, then to the other, syncs. `mac_key` is derived from
  // the DEK of role 1 in `h`.
  Status Update(Header* h, const SecretBytes& mac_key);

  int fd() const { return fd_; }

 private:
  HeaderStore(int fd, bool writable) : fd_(fd), writable_(writable) {}
  Status WriteCopy(int index, std::span<const uint8_t> bytes);

  int fd_;
  bool writable_;
  int loaded_ = 0;  // the copy the current state came from
  uint64_t sequence_ = 0;
};

}  // namespace vmcrypt::disk

#endif  // VMCRYPT_DISK_HEADER_STORE_H_
