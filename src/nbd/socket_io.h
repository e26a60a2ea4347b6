// Socket helpers for the NBD server: an owning descriptor, exact-length reads
// and writes that survive EINTR and never raise SIGPIPE, and listeners.
#ifndef VMCRYPT_SRC_NBD_SOCKET_IO_H_
#define VMCRYPT_SRC_NBD_SOCKET_IO_H_

#include <sys/uio.h>

#include <chrono>
#include <cstdint>
#include <span>
#include <string>

#include "vmcrypt/base/status.h"
#include "vmcrypt/base/unique_fd.h"

namespace vmcrypt::nbd {

using ::vmcrypt::UniqueFd;

// Reads exactly out.size() bytes. Unavailable("connection closed") on EOF
// (also mid-buffer), DeadlineExceeded on a receive timeout.
Status ReadFull(int fd, std::span<uint8_t> out);
// Reads and throws away `n` bytes.
Status Discard(int fd, uint64_t n);
// Writes every byte of every buffer (MSG_NOSIGNAL).
Status WriteFull(int fd, std::span<const iovec> iov);
Status WriteFull(int fd, std::span<const uint8_t> data);

// SO_RCVTIMEO / SO_SNDTIMEO; zero means none.
void SetReceiveTimeout(int fd, std::chrono::seconds t);
void SetSendTimeout(int fd, std::chrono::seconds t);

// A listening socket on a unix path (mode 0600). A stale socket file that no
// one accepts on is replaced; a live one gives AlreadyExists.
Result<UniqueFd> ListenUnix(const std::string& path);
// A listening TCP socket on "HOST:PORT" (numeric host); `port` receives the
// bound port.
Result<UniqueFd> ListenTcp(const std::string& listen, uint16_t* port);

// Big-endian stores into a byte buffer.
void PutU16(uint8_t* p, uint16_t v);
void PutU32(uint8_t* p, uint32_t v);
void PutU64(uint8_t* p, uint64_t v);

}  // namespace vmcrypt::nbd

#endif  // VMCRYPT_SRC_NBD_SOCKET_IO_H_
