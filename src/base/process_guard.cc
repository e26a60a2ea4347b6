#include "vmcrypt/base/process_guard.h"

#include <linux/capability.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace vmcrypt {
namespace {

#ifndef MCL_ONFAULT
#define MCL_ONFAULT 4  // Linux 4.4 (include/uapi/asm-generic/mman-common.h)
#endif

// Whether CAP_IPC_LOCK is in the effective set (capget(2), version 3).
bool HasIpcLock() {
  __user_cap_header_struct header{};
  header.version = _LINUX_CAPABILITY_VERSION_3;
  header.pid = 0;
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (syscall(SYS_capget, &header, data) != 0) return false;
  return (data[CAP_IPC_LOCK / 32].effective & (1u << (CAP_IPC_LOCK % 32))) != 0;
}

}  // namespace

Status DisableCoreDumps() {
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
    return InternalError(std::string("prctl(PR_SET_DUMPABLE, 0): ") + std::strerror(errno));
  }
  const rlimit none{0, 0};
  if (setrlimit(RLIMIT_CORE, &none) != 0) {
    return InternalError(std::string("setrlimit(RLIMIT_CORE, 0): ") + std::strerror(errno));
  }
  return OkStatus();
}

MemoryLock LockProcessMemory() {
  rlimit limit{};
  getrlimit(RLIMIT_MEMLOCK, &limit);
  if (!HasIpcLock() && limit.rlim_cur != RLIM_INFINITY) {
    return {false, "memory not locked: without CAP_IPC_LOCK the memlock limit (" +
                       std::to_string(limit.rlim_cur) +
                       " bytes) is too small to lock the process; key schedules may reach swap. "
                       "Run as root, grant CAP_IPC_LOCK, or set LimitMEMLOCK=infinity (systemd) "
                       "/ ulimit -l unlimited"};
  }
  if (mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) != 0) {
    return {false, std::string("memory not locked: mlockall: ") + std::strerror(errno) +
                       "; key schedules may reach swap"};
  }
  return {true, "memory locked in RAM (mlockall): keys never reach swap"};
}

}  // namespace vmcrypt
