// Process-wide protections for programs that hold key material in memory
// (the key server, the host agent, center, `vmcrypt disk`): no core dumps,
// and pages locked in RAM so that nothing is written to swap.
//
// Key caches lock their own pages (host/kek_cache.h); these calls cover what
// they cannot reach, such as the key schedules OpenSSL keeps inside its
// cipher contexts for the lifetime of an open disk.
#ifndef VMCRYPT_BASE_PROCESS_GUARD_H_
#define VMCRYPT_BASE_PROCESS_GUARD_H_

#include <string>

#include "vmcrypt/base/status.h"

namespace vmcrypt {

// Makes this process non-dumpable (no core dump, no ptrace by other users,
// /proc/PID/mem unreadable: prctl(PR_SET_DUMPABLE, 0)) and sets its core size
// limit to zero (PR_SET_DUMPABLE alone still lets the kernel dump for root
// when fs.suid_dumpable = 2). Internal error if either call fails.
Status DisableCoreDumps();

// The outcome of LockProcessMemory: whether every page is locked, and a line
// for the log saying so (or why not, and what to change).
struct MemoryLock {
  bool locked = false;
  std::string message;
};

// Locks every page of the process in RAM, those mapped now and those mapped
// later, as they are first touched (mlockall MCL_CURRENT | MCL_FUTURE |
// MCL_ONFAULT: memory not yet used is not made resident). Done only when the
// process may lock without bound (CAP_IPC_LOCK, or an unlimited
// RLIMIT_MEMLOCK): under a finite limit, MCL_FUTURE would make allocations
// fail once the limit is reached, so the process is left unlocked and the
// message names the limit and how to raise it. Never fails the caller.
MemoryLock LockProcessMemory();

}  // namespace vmcrypt

#endif  // VMCRYPT_BASE_PROCESS_GUARD_H_
