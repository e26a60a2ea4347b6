#include "src/store/sqlite/read_cache.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <mutex>

namespace vmcrypt::store::sqlite {
namespace {

// walformat.html, "The WAL-Index Header": two copies of a 48-byte header
// at offsets 0 and 48; iVersion (offset 0) is 3007000 and isInit (offset 12)
// is 1 once a connection has built the index.
constexpr size_t kHeaderSize = 48;
constexpr uint32_t kWalIndexVersion = 3007000;
constexpr size_t kIsInitOffset = 12;

uint32_t U32At(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

}  // namespace

ReadCache::ReadCache(const std::string& db_path, size_t capacity) : capacity_(capacity) {
  if (capacity == 0) return;
  const std::string path = db_path + "-shm";
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  struct stat st {};
  if (fstat(fd, &st) != 0 || st.st_size < static_cast<off_t>(2 * kHeaderSize)) {
    close(fd);
    return;
  }
  const size_t length = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  void* p = mmap(nullptr, length, PROT_READ, MAP_SHARED, fd, 0);
  close(fd);  // the mapping keeps the file
  if (p == MAP_FAILED) return;
  shm_ = static_cast<const uint8_t*>(p);
  mapped_ = length;
  if (U32At(shm_) != kWalIndexVersion) {  // a format this code does not know
    munmap(p, length);
    shm_ = nullptr;
  }
}

ReadCache::~ReadCache() {
  if (shm_ != nullptr) munmap(const_cast<uint8_t*>(shm_), mapped_);
}

std::optional<ReadCache::Header> ReadCache::CurrentHeader() const {
  if (shm_ == nullptr) return std::nullopt;
  // As SQLite's walIndexTryHdr: copy 1, barrier, copy 2; a writer stores
  // copy 2 first, then copy 1, so equal copies are one consistent header.
  Header first;
  Header second;
  std::memcpy(first.data(), shm_, kHeaderSize);
  std::atomic_thread_fence(std::memory_order_seq_cst);
  std::memcpy(second.data(), shm_ + kHeaderSize, kHeaderSize);
  if (first != second) return std::nullopt;
  if (U32At(first.data()) != kWalIndexVersion || first[kIsInitOffset] != 1) return std::nullopt;
  return first;
}

std::string ReadCache::Key(std::string_view tenant, std::string_view uid, bool with_index) {
  std::string key;
  key.reserve(tenant.size() + uid.size() + 2);
  key.append(tenant).push_back('\0');
  key.append(uid).push_back(with_index ? 'i' : '-');
  return key;
}

std::optional<ObjectRecord> ReadCache::Find(std::string_view tenant, std::string_view uid,
                                            bool with_index) {
  const std::optional<Header> now = CurrentHeader();
  if (!now) return std::nullopt;
  std::shared_ptr<const ObjectRecord> row;
  bool stale = false;
  {
    std::shared_lock<std::shared_mutex> lock(mu_);
    if (!have_header_ || *now != header_) {
      stale = true;
    } else if (auto it = rows_.find(Key(tenant, uid, with_index)); it != rows_.end()) {
      row = it->second;
    }
  }
  if (stale) {
    // Something committed since the rows were read: start over.
    std::unique_lock<std::shared_mutex> lock(mu_);
    if (!have_header_ || *now != header_) {
      rows_.clear();
      header_ = *now;
      have_header_ = true;
    }
  }
  if (row == nullptr) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
  }
  hits_.fetch_add(1, std::memory_order_relaxed);
  return *row;  // copied outside the lock
}

void ReadCache::Put(const Header& before, const Header& after, bool with_index,
                    const ObjectRecord& record) {
  if (before != after) return;  // a commit landed while the row was read
  auto row = std::make_shared<const ObjectRecord>(record);
  std::unique_lock<std::shared_mutex> lock(mu_);
  if (!have_header_ || header_ != before) return;
  if (rows_.size() >= capacity_) rows_.clear();
  rows_[Key(record.tenant, record.uid, with_index)] = std::move(row);
}

int64_t ReadCache::hits() const { return hits_.load(std::memory_order_relaxed); }

int64_t ReadCache::misses() const { return misses_.load(std::memory_order_relaxed); }

}  // namespace vmcrypt::store::sqlite
