#include "vmcrypt/base/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>

namespace vmcrypt {
namespace {

std::string Errno(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

// Closes a descriptor on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }

 private:
  int fd_;
};

constexpr off_t kMaxFileSize = 64 << 20;

Result<std::string> ReadFd(int fd, const std::string& path) {
  struct stat st;
  if (fstat(fd, &st) != 0) return InternalError(Errno("cannot stat", path));
  if (!S_ISREG(st.st_mode)) return InvalidArgumentError(path + " is not a regular file");
  if (st.st_size > kMaxFileSize) return OutOfRangeError(path + " is too large");
  std::string out;
  char buf[65536];
  while (true) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return InternalError(Errno("cannot read", path));
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

}  // namespace

Status WriteFileAtomic(const std::string& path, std::span<const uint8_t> data, mode_t mode,
                       bool overwrite) {
  if (!overwrite && access(path.c_str(), F_OK) == 0) {
    return AlreadyExistsError(path + " already exists");
  }
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  std::string tmp =
      path + ".tmp-" + std::to_string(getpid()) + "-" + std::to_string(std::random_device{}());
  Fd fd(open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
  if (fd.get() < 0) return InternalError(Errno("cannot create", tmp));
  fchmod(fd.get(), mode);  // umask may have narrowed it; never widen beyond `mode`
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd.get(), data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      unlink(tmp.c_str());
      return InternalError(Errno("cannot write", tmp));
    }
    done += static_cast<size_t>(n);
  }
  if (fsync(fd.get()) != 0) {
    unlink(tmp.c_str());
    return InternalError(Errno("cannot fsync", tmp));
  }
  close(fd.release());
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    unlink(tmp.c_str());
    return InternalError(Errno("cannot rename to", path));
  }
  Fd dfd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dfd.get() >= 0) fsync(dfd.get());
  return OkStatus();
}

Result<std::string> ReadFileToString(const std::string& path) {
  Fd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return NotFoundError(Errno("cannot open", path));
  return ReadFd(fd.get(), path);
}

Result<SecretBytes> ReadSecretFile(const std::string& path) {
  Fd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return NotFoundError(Errno("cannot open", path));
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return InternalError(Errno("cannot stat", path));
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return PermissionDeniedError(path + " holds a secret but has mode " + mode +
                                 " (must be 0600 or stricter)");
  }
  ASSIGN_OR_RETURN(std::string text, ReadFd(fd.get(), path));
  SecretBytes out(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
  internal::SecureWipe(text.data(), text.size());
  return out;
}

std::string ResolvePath(const std::string& dir, const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  return dir + "/" + path;
}

Status MakeDirectory(const std::string& path, mode_t mode) {
  if (mkdir(path.c_str(), mode) == 0 || errno == EEXIST) return OkStatus();
  return InternalError(Errno("cannot create", path));
}

}  // namespace vmcrypt
