#include "src/store/sqlite/wal_vfs.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace vmcrypt::store::sqlite {
namespace {

constexpr const char* kVfsName = "vmcrypt-wal";
// https://sqlite.org/walformat.html: a frame header is 24 bytes; bytes 4-7
// hold, big-endian, the database size in pages after a commit, and zero in
// every frame that does not end a transaction.
constexpr int kFrameHeaderSize = 24;
constexpr size_t kMaxBuffered = 4 << 20;

// The shim's file: its own io_methods first (what SQLite sees), then the
// underlying VFS's file, which lives in the same allocation just after it.
struct ShimFile {
  sqlite3_file base;
  sqlite3_file* real;
  // WAL files only: writes not yet passed on, covering [start, start + len),
  // and the shim's own descriptor of the file, through which they go (the
  // default VFS writes at most 128 KiB per call: os_unix.c, seekAndWriteFd).
  int fd;
  unsigned char* buffer;
  size_t len;
  size_t capacity;
  sqlite3_int64 start;
  bool commit_frame_next;  // the last write was a commit frame's header
  bool unbuffered;         // no descriptor, or out of memory once: no buffering
  // The WAL of this database file while it is open, and the reverse.
  ShimFile* wal;
  ShimFile* db;
};

sqlite3_vfs* Real(sqlite3_vfs* vfs) { return static_cast<sqlite3_vfs*>(vfs->pAppData); }
ShimFile* Shim(sqlite3_file* file) { return reinterpret_cast<ShimFile*>(file); }
sqlite3_file* RealFile(sqlite3_file* file) { return Shim(file)->real; }

// Writes the buffered bytes out with pwrite(2), as few calls as the kernel
// allows. On failure they are dropped: SQLite then rolls the transaction
// back. The error codes are the default VFS's (SQLITE_FULL for ENOSPC).
int Flush(ShimFile* f) {
  size_t done = 0;
  while (done < f->len) {
    const ssize_t n = ::pwrite(f->fd, f->buffer + done, f->len - done,
                               static_cast<off_t>(f->start) + static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      f->len = 0;
      return n < 0 && errno != ENOSPC ? SQLITE_IOERR_WRITE : SQLITE_FULL;
    }
    done += static_cast<size_t>(n);
  }
  f->len = 0;
  return SQLITE_OK;
}

bool Append(ShimFile* f, const void* data, size_t n) {
  if (f->len + n > f->capacity) {
    const size_t want = std::max(f->len + n, f->capacity == 0 ? size_t{1} << 20 : f->capacity * 2);
    auto* grown = static_cast<unsigned char*>(std::realloc(f->buffer, want));
    if (grown == nullptr) return false;
    f->buffer = grown;
    f->capacity = want;
  }
  std::memcpy(f->buffer + f->len, data, n);
  f->len += n;
  return true;
}

// Forward<&sqlite3_io_methods::xName>::Call passes the call on to the real
// file's xName.
template <auto Method>
struct Forward;
template <typename R, typename... Args, R (*sqlite3_io_methods::*Method)(sqlite3_file*, Args...)>
struct Forward<Method> {
  static R Call(sqlite3_file* file, Args... args) {
    return (RealFile(file)->pMethods->*Method)(RealFile(file), args...);
  }
};

// --- WAL files: buffered writes ---------------------------------------------

int WalWrite(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
  ShimFile* f = Shim(file);
  if (f->len > 0 && offset != f->start + static_cast<sqlite3_int64>(f->len)) {
    if (const int rc = Flush(f); rc != SQLITE_OK) return rc;
  }
  if (f->len == 0) f->start = offset;
  if (f->unbuffered || !Append(f, data, static_cast<size_t>(amount))) {
    f->unbuffered = true;
    if (const int rc = Flush(f); rc != SQLITE_OK) return rc;
    return f->real->pMethods->xWrite(f->real, data, amount, offset);
  }
  const bool ends_commit = f->commit_frame_next;
  const auto* bytes = static_cast<const unsigned char*>(data);
  f->commit_frame_next =
      amount == kFrameHeaderSize && (bytes[4] | bytes[5] | bytes[6] | bytes[7]) != 0;
  if (ends_commit || f->len >= kMaxBuffered) return Flush(f);
  return SQLITE_OK;
}

// WAL files: FlushFirst<&sqlite3_io_methods::xName>::Call writes out what is
// buffered, then passes the call on (a read, sync, size query, truncation
// or file control sees every write made before it).
template <auto Method>
struct FlushFirst;
template <typename... Args, int (*sqlite3_io_methods::*Method)(sqlite3_file*, Args...)>
struct FlushFirst<Method> {
  static int Call(sqlite3_file* file, Args... args) {
    if (const int rc = Flush(Shim(file)); rc != SQLITE_OK) return rc;
    return Forward<Method>::Call(file, args...);
  }
};

int Close(sqlite3_file* file) {
  ShimFile* f = Shim(file);
  const int flushed = Flush(f);
  if (f->db != nullptr) f->db->wal = nullptr;
  if (f->wal != nullptr) f->wal->db = nullptr;
  std::free(f->buffer);
  f->buffer = nullptr;
  f->capacity = 0;
  if (f->fd >= 0) ::close(f->fd);
  f->fd = -1;
  const int rc = f->real->pMethods->xClose(f->real);
  return flushed != SQLITE_OK ? flushed : rc;
}

// --- Every file: the rest passes straight through ----------------------------

// SQLite publishes a commit in the WAL index after a memory barrier on the
// database file (wal.c, walIndexWriteHdr). The commit frame's write has
// normally flushed everything already (WalWrite); should a SQLite release
// write frames differently, this still puts them in the file before any
// other connection can look for them. Its failure cannot be reported here.
void ShmBarrier(sqlite3_file* file) {
  if (ShimFile* wal = Shim(file)->wal; wal != nullptr) (void)Flush(wal);
  RealFile(file)->pMethods->xShmBarrier(RealFile(file));
}

// Version 2 and 3 methods are set only when the real file's methods have
// that version (the shim advertises the real file's version).
constexpr sqlite3_io_methods MethodsOfVersion(int version, bool wal) {
  using M = sqlite3_io_methods;
  return {
      version,
      &Close,
      wal ? &FlushFirst<&M::xRead>::Call : &Forward<&M::xRead>::Call,
      wal ? &WalWrite : &Forward<&M::xWrite>::Call,
      wal ? &FlushFirst<&M::xTruncate>::Call : &Forward<&M::xTruncate>::Call,
      wal ? &FlushFirst<&M::xSync>::Call : &Forward<&M::xSync>::Call,
      wal ? &FlushFirst<&M::xFileSize>::Call : &Forward<&M::xFileSize>::Call,
      &Forward<&M::xLock>::Call,
      &Forward<&M::xUnlock>::Call,
      &Forward<&M::xCheckReservedLock>::Call,
      wal ? &FlushFirst<&M::xFileControl>::Call : &Forward<&M::xFileControl>::Call,
      &Forward<&M::xSectorSize>::Call,
      &Forward<&M::xDeviceCharacteristics>::Call,
      version >= 2 ? &Forward<&M::xShmMap>::Call : nullptr,
      version >= 2 ? &Forward<&M::xShmLock>::Call : nullptr,
      version >= 2 ? &ShmBarrier : nullptr,
      version >= 2 ? &Forward<&M::xShmUnmap>::Call : nullptr,
      version >= 3 ? &Forward<&M::xFetch>::Call : nullptr,
      version >= 3 ? &Forward<&M::xUnfetch>::Call : nullptr,
  };
}

// [wal][version - 1]
constexpr sqlite3_io_methods kMethods[2][3] = {
    {MethodsOfVersion(1, false), MethodsOfVersion(2, false), MethodsOfVersion(3, false)},
    {MethodsOfVersion(1, true), MethodsOfVersion(2, true), MethodsOfVersion(3, true)},
};

bool IsShim(const sqlite3_file* file) {
  const sqlite3_io_methods* m = file->pMethods;
  return m >= &kMethods[0][0] && m <= &kMethods[1][2];
}

size_t RealFileOffset() { return (sizeof(ShimFile) + 15) & ~size_t{15}; }

int Open(sqlite3_vfs* vfs, const char* name, sqlite3_file* file, int flags, int* out_flags) {
  ShimFile* f = Shim(file);
  std::memset(f, 0, sizeof(ShimFile));
  f->fd = -1;
  f->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + RealFileOffset());
  const int rc = Real(vfs)->xOpen(Real(vfs), name, f->real, flags, out_flags);
  // SQLite calls xClose after a failed open only if pMethods is set; the
  // shim's follows the real file's.
  const sqlite3_io_methods* real = f->real->pMethods;
  if (real == nullptr) return rc;
  const int version = real->iVersion < 1 ? 1 : (real->iVersion > 3 ? 3 : real->iVersion);
  const bool wal = (flags & SQLITE_OPEN_WAL) != 0;
  f->base.pMethods = &kMethods[wal ? 1 : 0][version - 1];
  f->unbuffered = true;
  if (wal && rc == SQLITE_OK) {
    // The file exists now. Without a descriptor of its own the shim only
    // passes writes on.
    f->fd = (flags & SQLITE_OPEN_READONLY) != 0 ? -1 : ::open(name, O_WRONLY | O_CLOEXEC);
    f->unbuffered = f->fd < 0;
    // A WAL's name, as given to xOpen, leads to its database's file.
    if (sqlite3_file* main = sqlite3_database_file_object(name); main != nullptr && IsShim(main)) {
      f->db = Shim(main);
      f->db->wal = f;
    }
  }
  return rc;
}

// ForwardVfs<&sqlite3_vfs::xName>::Call passes the call on to the default
// VFS's xName.
template <auto Method>
struct ForwardVfs;
template <typename R, typename... Args, R (*sqlite3_vfs::*Method)(sqlite3_vfs*, Args...)>
struct ForwardVfs<Method> {
  static R Call(sqlite3_vfs* vfs, Args... args) { return (Real(vfs)->*Method)(Real(vfs), args...); }
};

const char* Register() {
  sqlite3_vfs* real = sqlite3_vfs_find(nullptr);
  // Version 2 is what the shim forwards (xCurrentTimeInt64); the system-call
  // overrides of version 3 are left to the default VFS.
  if (real == nullptr || real->iVersion < 2) return nullptr;
  static sqlite3_vfs shim{};
  shim.iVersion = 2;
  shim.szOsFile = static_cast<int>(RealFileOffset()) + real->szOsFile;
  shim.mxPathname = real->mxPathname;
  shim.zName = kVfsName;
  shim.pAppData = real;
  shim.xOpen = &Open;
  using V = sqlite3_vfs;
  shim.xDelete = &ForwardVfs<&V::xDelete>::Call;
  shim.xAccess = &ForwardVfs<&V::xAccess>::Call;
  shim.xFullPathname = &ForwardVfs<&V::xFullPathname>::Call;
  shim.xDlOpen = &ForwardVfs<&V::xDlOpen>::Call;
  shim.xDlError = &ForwardVfs<&V::xDlError>::Call;
  shim.xDlSym = &ForwardVfs<&V::xDlSym>::Call;
  shim.xDlClose = &ForwardVfs<&V::xDlClose>::Call;
  shim.xRandomness = &ForwardVfs<&V::xRandomness>::Call;
  shim.xSleep = &ForwardVfs<&V::xSleep>::Call;
  shim.xCurrentTime = &ForwardVfs<&V::xCurrentTime>::Call;
  shim.xGetLastError = &ForwardVfs<&V::xGetLastError>::Call;
  shim.xCurrentTimeInt64 = &ForwardVfs<&V::xCurrentTimeInt64>::Call;
  if (sqlite3_vfs_register(&shim, /*makeDflt=*/0) != SQLITE_OK) return nullptr;
  return kVfsName;
}

}  // namespace

const char* WalCoalescingVfsName() {
  static const char* const name = Register();
  return name;
}

}  // namespace vmcrypt::store::sqlite
