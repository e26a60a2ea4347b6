// KekCache: the host agent's key-encryption keys, by (provider id, key id).
//
// The keys live only in one anonymous mapping that is locked in RAM
// (mlock: never swapped), excluded from core dumps (MADV_DONTDUMP) and not
// inherited by children (MADV_DONTFORK). A removed key's slot is wiped at
// once; the destructor wipes and unmaps everything. Nothing is persisted: a
// restarted agent has an empty cache, and the control plane pushes the keys
// again (seed 000, step 3). Key bytes never leave the cache except through
// With(), which lends them to a callback under the cache's lock.
//
// Thread-safe.
#ifndef VMCRYPT_HOST_KEK_CACHE_H_
#define VMCRYPT_HOST_KEK_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "vmcrypt/base/status.h"

namespace vmcrypt::host {

// Which key: the provider that holds it and its identifier there.
struct KeyRef {
  std::string provider;
  std::string key_id;

  auto operator<=>(const KeyRef&) const = default;
  // "provider P, key id K" (for messages; never key bytes).
  std::string ToString() const;
};

// The error for a key the cache does not hold; names provider and key id.
Status KeyNotFound(const KeyRef& ref);

class KekCache {
 public:
  static constexpr size_t kMaxKeySize = 64;

  // Maps and locks room for `capacity` keys. Fails (naming the limit to
  // raise) when the memory cannot be locked.
  static Result<std::unique_ptr<KekCache>> Create(size_t capacity = 4096);
  ~KekCache();
  KekCache(const KekCache&) = delete;
  KekCache& operator=(const KekCache&) = delete;

  // Adds or replaces the key `ref` (1..kMaxKeySize bytes). The caller wipes
  // its own copy.
  Status Put(const KeyRef& ref, std::span<const uint8_t> key);
  // Wipes and forgets `ref`; Not Found if absent.
  Status Remove(const KeyRef& ref);
  bool Contains(const KeyRef& ref) const;
  std::vector<KeyRef> List() const;
  size_t size() const;
  // Calls `use` with the key's bytes (valid only during the call, under the
  // cache's lock: keep it short). KeyNotFound(ref) if absent.
  Status With(const KeyRef& ref,
              const std::function<Status(std::span<const uint8_t> key)>& use) const;

 private:
  KekCache(uint8_t* base, size_t mapped, size_t capacity);

  struct Slot {
    size_t index;
    size_t size;
  };
  uint8_t* base_;
  size_t mapped_;
  size_t capacity_;
  mutable std::mutex mu_;
  std::map<KeyRef, Slot> keys_;
  std::vector<size_t> free_;
};

}  // namespace vmcrypt::host

#endif  // VMCRYPT_HOST_KEK_CACHE_H_
