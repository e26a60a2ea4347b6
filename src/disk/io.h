// File I/O helpers of the disk component: an owned descriptor, full
// pread/pwrite loops, fdatasync and hole punching, each with an error that
// names the file role and errno (never data). Internal to src/disk.
#ifndef VMCRYPT_SRC_DISK_IO_H_
#define VMCRYPT_SRC_DISK_IO_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "vmcrypt/base/status.h"
#include "vmcrypt/base/unique_fd.h"

namespace vmcrypt::disk::internal {

using ::vmcrypt::UniqueFd;

// open(2) with O_CLOEXEC; NotFound / PermissionDenied / Internal naming path.
Result<UniqueFd> OpenFile(const std::string& path, int flags, int mode = 0600);

// Reads up to out.size() bytes at `offset`, stopping early only at end of
// file; returns the count.
Result<size_t> PreadAll(int fd, std::span<uint8_t> out, uint64_t offset, std::string_view what);
// Reads exactly out.size() bytes; DataLoss "truncated" at end of file.
Status PreadExact(int fd, std::span<uint8_t> out, uint64_t offset, std::string_view what);
Status PwriteAll(int fd, std::span<const uint8_t> data, uint64_t offset, std::string_view what);
Status SyncData(int fd, std::string_view what);
// Deallocates [offset, offset + length) keeping the size; falls back to
// writing zeros where the file system cannot punch holes.
Status PunchHole(int fd, uint64_t offset, uint64_t length, std::string_view what);
// File size in bytes.
Result<uint64_t> FileSize(int fd);
// Takes an advisory lock (flock(2), LOCK_EX when `exclusive`, else LOCK_SH;
// never waits) on `fd`, the header file of the disk at `disk_path`, so that
// two processes never have one disk open for writing, nor one writing while
// another reads. The lock lives as long as the open file description of
// `fd` (closing it releases the lock). One process opening the header file
// twice conflicts with itself too: callers lock one descriptor per disk.
// A conflicting lock is retried for up to 1 s (a killed holder may still be
// exiting), then: FailedPrecondition "disk PATH is in use by another process" if a
// conflicting lock is held.
Status LockDisk(int fd, bool exclusive, const std::string& disk_path);

// fsync of the directory holding `path` (after a rename or create).
Status SyncParentDir(const std::string& path);

bool IsAllZero(std::span<const uint8_t> data);

}  // namespace vmcrypt::disk::internal

#endif  // VMCRYPT_SRC_DISK_IO_H_
