#include "vmcrypt/nbd/file_device.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace vmcrypt::nbd {

namespace {

constexpr uint64_t kSector = 512;

Status ErrnoStatus(int err, const std::string& what) {
  std::string msg = what + ": " + std::strerror(err);
  switch (err) {
    case ENOENT:
      return NotFoundError(std::move(msg));
    case EACCES:
    case EPERM:
    case EROFS:
      return PermissionDeniedError(std::move(msg));
    case EISDIR:
      return InvalidArgumentError(what + ": is a directory, not an image");
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
      return OutOfRangeError(std::move(msg));
    default:
      return InternalError(std::move(msg));
  }
}

}  // namespace

Result<std::unique_ptr<FileDevice>> FileDevice::Open(const std::string& path, bool read_only) {
  const int fd = ::open(path.c_str(), (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "cannot open " + path);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return ErrnoStatus(err, "cannot stat " + path);
  }
  uint64_t size = 0;
  if (S_ISREG(st.st_mode)) {
    size = static_cast<uint64_t>(st.st_size);
  } else if (S_ISBLK(st.st_mode)) {
    if (::ioctl(fd, BLKGETSIZE64, &size) != 0) {
      const int err = errno;
      ::close(fd);
      return ErrnoStatus(err, "cannot get the size of " + path);
    }
  } else {
    ::close(fd);
    return InvalidArgumentError(path + " is neither a regular file nor a block device");
  }
  size -= size % kSector;
  if (size == 0) {
    ::close(fd);
    return InvalidArgumentError(path + " is smaller than 512 bytes");
  }
  return std::unique_ptr<FileDevice>(new FileDevice(fd, size, read_only, path));
}

Result<std::unique_ptr<FileDevice>> FileDevice::Create(const std::string& path, uint64_t size) {
  if (size == 0 || size % kSector != 0) {
    return InvalidArgumentError("image size must be a positive multiple of 512 bytes");
  }
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus(errno, "cannot create " + path);
  if (::ftruncate(fd, static_cast<off_t>(size)) != 0) {
    const int err = errno;
    ::close(fd);
    return ErrnoStatus(err, "cannot size " + path);
  }
  return std::unique_ptr<FileDevice>(new FileDevice(fd, size, false, path));
}

FileDevice::~FileDevice() { ::close(fd_); }

Status FileDevice::CheckRange(uint64_t offset, uint64_t length) const {
  if (offset > size_ || length > size_ - offset) {
    return OutOfRangeError("range beyond the end of " + path_);
  }
  return OkStatus();
}

Status FileDevice::Read(uint64_t offset, std::span<uint8_t> out) {
  RETURN_IF_ERROR(CheckRange(offset, out.size()));
  size_t done = 0;
  while (done < out.size()) {
    const ssize_t n =
        ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "read from " + path_);
    }
    if (n == 0) {
      // The file shrank under us: what is gone reads as zeros.
      std::memset(out.data() + done, 0, out.size() - done);
      break;
    }
    done += static_cast<size_t>(n);
  }
  return OkStatus();
}

Status FileDevice::Write(uint64_t offset, std::span<const uint8_t> data, bool fua) {
  if (read_only_) return PermissionDeniedError(path_ + " is exported read-only");
  RETURN_IF_ERROR(CheckRange(offset, data.size()));
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n =
        ::pwrite(fd_, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "write to " + path_);
    }
    done += static_cast<size_t>(n);
  }
  return fua ? Flush() : OkStatus();
}

Status FileDevice::Flush() {
  if (::fdatasync(fd_) != 0) return ErrnoStatus(errno, "fdatasync of " + path_);
  return OkStatus();
}

Status FileDevice::WriteZeroBytes(uint64_t offset, uint64_t length) {
  static constexpr size_t kChunk = 1 << 20;
  const std::vector<uint8_t> zeros(std::min<uint64_t>(length, kChunk), 0);
  while (length > 0) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(length, zeros.size()));
    RETURN_IF_ERROR(Write(offset, std::span(zeros.data(), n), false));
    offset += n;
    length -= n;
  }
  return OkStatus();
}

Status FileDevice::Trim(uint64_t offset, uint64_t length) {
  if (read_only_) return PermissionDeniedError(path_ + " is exported read-only");
  RETURN_IF_ERROR(CheckRange(offset, length));
  if (length == 0) return OkStatus();
  // KEEP_SIZE is required with PUNCH_HOLE; the punched range reads as zeros
  // (fallocate(2)), which is what the BlockDevice contract promises.
  if (::fallocate(fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset),
                  static_cast<off_t>(length)) == 0) {
    return OkStatus();
  }
  if (errno != EOPNOTSUPP && errno != ENOSYS) return ErrnoStatus(errno, "trim of " + path_);
  return WriteZeroBytes(offset, length);
}

Status FileDevice::WriteZeroes(uint64_t offset, uint64_t length, bool fua) {
  RETURN_IF_ERROR(Trim(offset, length));
  return fua ? Flush() : OkStatus();
}

}  // namespace vmcrypt::nbd
