#include "src/disk/io.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace vmcrypt::disk::internal {
namespace {

Status Errno(std::string_view what, std::string_view op, int err) {
  std::string m = std::string(op) + " " + std::string(what) + ": " + std::strerror(err);
  switch (err) {
    case ENOENT:
      return NotFoundError(m);
    case EACCES:
    case EPERM:
    case EROFS:
      return PermissionDeniedError(m);
    case ENOSPC:
      return OutOfRangeError(m);
    default:
      return InternalError(m);
  }
}

}  // namespace

Result<UniqueFd> OpenFile(const std::string& path, int flags, int mode) {
  int fd = open(path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) return Errno(path, "open", errno);
  return UniqueFd(fd);
}

Status LockDisk(int fd, bool exclusive, const std::string& disk_path) {
  // A process killed with SIGKILL releases its locks only when the kernel
  // has torn it down, which may be a little after its parent saw it die
  // (e.g. `timeout -s KILL` then an immediate rerun): poll for a short
  // while before calling the disk busy.
  constexpr int kAttempts = 100;
  constexpr useconds_t kPollMicros = 10000;  // 100 x 10 ms = 1 s
  for (int attempt = 1;; ++attempt) {
    if (flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0) return OkStatus();
    if (errno == EINTR) continue;
    if (errno != EWOULDBLOCK) return Errno(disk_path, "lock", errno);
    if (attempt == kAttempts) {
      return FailedPreconditionError("disk " + disk_path + " is in use by another process");
    }
    usleep(kPollMicros);
  }
}

Result<size_t> PreadAll(int fd, std::span<uint8_t> out, uint64_t offset, std::string_view what) {
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = pread(fd, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno(what, "read", errno);
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

Status PreadExact(int fd, std::span<uint8_t> out, uint64_t offset, std::string_view what) {
  ASSIGN_OR_RETURN(size_t n, PreadAll(fd, out, offset, what));
  if (n != out.size()) {
    return DataLossError(std::string(what) + " truncated: wanted " + std::to_string(out.size()) +
                         " bytes at offset " + std::to_string(offset) + ", got " +
                         std::to_string(n));
  }
  return OkStatus();
}

Status PwriteAll(int fd, std::span<const uint8_t> data, uint64_t offset, std::string_view what) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n =
        pwrite(fd, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno(what, "write", errno);
    }
    done += static_cast<size_t>(n);
  }
  return OkStatus();
}

Status SyncData(int fd, std::string_view what) {
  if (fdatasync(fd) != 0) return Errno(what, "sync", errno);
  return OkStatus();
}

Status PunchHole(int fd, uint64_t offset, uint64_t length, std::string_view what) {
  if (length == 0) return OkStatus();
  if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset),
                static_cast<off_t>(length)) == 0) {
    return OkStatus();
  }
  if (errno != EOPNOTSUPP && errno != ENOSYS) return Errno(what, "punch hole in", errno);
  static const std::vector<uint8_t> kZeros(1 << 20, 0);
  for (uint64_t done = 0; done < length;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(length - done, kZeros.size()));
    RETURN_IF_ERROR(PwriteAll(fd, std::span(kZeros).first(n), offset + done, what));
    done += n;
  }
  return OkStatus();
}

Result<uint64_t> FileSize(int fd) {
  struct stat st {};
  if (fstat(fd, &st) != 0) return Errno("file", "stat", errno);
  return static_cast<uint64_t>(st.st_size);
}

Status SyncParentDir(const std::string& path) {
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(dir, O_RDONLY | O_DIRECTORY));
  if (fsync(fd.get()) != 0) return Errno(dir, "sync", errno);
  return OkStatus();
}

bool IsAllZero(std::span<const uint8_t> data) {
  // Word-at-a-time would be faster; memcmp against the first byte keeps it
  // simple and vectorised by libc.
  if (data.empty()) return true;
  return data[0] == 0 && std::memcmp(data.data(), data.data() + 1, data.size() - 1) == 0;
}

}  // namespace vmcrypt::disk::internal
