#include "vmcrypt/host/kek_cache.h"

#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "vmcrypt/base/secret_bytes.h"

namespace vmcrypt::host {

std::string KeyRef::ToString() const { return "provider " + provider + ", key id " + key_id; }

Status KeyNotFound(const KeyRef& ref) {
  return NotFoundError("key not found: " + ref.ToString() +
                       " (the host has not received this key; push it again from the control "
                       "plane)");
}

Result<std::unique_ptr<KekCache>> KekCache::Create(size_t capacity) {
  if (capacity == 0) return InvalidArgumentError("a key cache needs room for one key at least");
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const size_t mapped = (capacity * kMaxKeySize + page - 1) / page * page;
  void* p = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    return InternalError(std::string("cannot map key memory: ") + std::strerror(errno));
  }
  if (mlock(p, mapped) != 0) {
    const int err = errno;
    munmap(p, mapped);
    rlimit lim{};
    getrlimit(RLIMIT_MEMLOCK, &lim);
    return UnavailableError("cannot lock " + std::to_string(mapped) +
                            " bytes of key memory in RAM (" + std::strerror(err) +
                            "); the memlock limit is " + std::to_string(lim.rlim_cur) +
                            " bytes: raise it (ulimit -l, LimitMEMLOCK= in systemd)");
  }
  madvise(p, mapped, MADV_DONTDUMP);
  madvise(p, mapped, MADV_DONTFORK);
  return std::unique_ptr<KekCache>(new KekCache(static_cast<uint8_t*>(p), mapped, capacity));
}

KekCache::KekCache(uint8_t* base, size_t mapped, size_t capacity)
    : base_(base), mapped_(mapped), capacity_(capacity) {
  free_.reserve(capacity);
  for (size_t i = capacity; i > 0; --i) free_.push_back(i - 1);
}

KekCache::~KekCache() {
  internal::SecureWipe(base_, mapped_);
  munlock(base_, mapped_);
  munmap(base_, mapped_);
}

Status KekCache::Put(const KeyRef& ref, std::span<const uint8_t> key) {
  if (key.empty() || key.size() > kMaxKeySize) {
    return InvalidArgumentError("a key must be 1 to " + std::to_string(kMaxKeySize) +
                                " bytes, not " + std::to_string(key.size()));
  }
  if (ref.provider.empty() || ref.key_id.empty()) {
    return InvalidArgumentError("a key needs a provider id and a key id");
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto it = keys_.find(ref);
  size_t index;
  if (it != keys_.end()) {
    index = it->second.index;
  } else {
    if (free_.empty()) {
      return OutOfRangeError("the key cache is full (" + std::to_string(capacity_) + " keys)");
    }
    index = free_.back();
    free_.pop_back();
  }
  uint8_t* slot = base_ + index * kMaxKeySize;
  internal::SecureWipe(slot, kMaxKeySize);
  std::memcpy(slot, key.data(), key.size());
  keys_[ref] = Slot{index, key.size()};
  return OkStatus();
}

Status KekCache::Remove(const KeyRef& ref) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = keys_.find(ref);
  if (it == keys_.end()) return KeyNotFound(ref);
  internal::SecureWipe(base_ + it->second.index * kMaxKeySize, kMaxKeySize);
  free_.push_back(it->second.index);
  keys_.erase(it);
  return OkStatus();
}

bool KekCache::Contains(const KeyRef& ref) const {
  std::lock_guard<std::mutex> lock(mu_);
  return keys_.count(ref) != 0;
}

std::vector<KeyRef> KekCache::List() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<KeyRef> out;
  out.reserve(keys_.size());
  for (const auto& [ref, slot] : keys_) out.push_back(ref);
  return out;
}

size_t KekCache::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return keys_.size();
}

Status KekCache::With(const KeyRef& ref,
                      const std::function<Status(std::span<const uint8_t>)>& use) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = keys_.find(ref);
  if (it == keys_.end()) return KeyNotFound(ref);
  return use({base_ + it->second.index * kMaxKeySize, it->second.size});
}

}  // namespace vmcrypt::host
