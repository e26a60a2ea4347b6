#include "vmcrypt/base/process_guard.h"

#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <string>
#include <vector>

namespace vmcrypt {
namespace {

// Runs `body` in a forked child (these calls change the whole process) and
// returns its exit code; 0 means every check in the child held.
int InChild(const std::function<int()>& body) {
  const pid_t pid = fork();
  if (pid == 0) _exit(body());
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

// The "VmLck:" figure of /proc/self/status, in kB.
long LockedKb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmLck:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

TEST(ProcessGuardTest, DisableCoreDumpsMakesTheProcessNonDumpableWithNoCoreLimit) {
  EXPECT_EQ(InChild([] {
              if (!DisableCoreDumps().ok()) return 1;
              if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0) return 2;
              rlimit core{};
              getrlimit(RLIMIT_CORE, &core);
              return core.rlim_cur == 0 && core.rlim_max == 0 ? 0 : 3;
            }),
            0);
}

TEST(ProcessGuardTest, LockProcessMemoryLocksPagesTouchedLater) {
  // CI runs as root (CAP_IPC_LOCK); a user without it gets the other branch,
  // which the next test covers on purpose.
  EXPECT_EQ(InChild([] {
              const MemoryLock lock = LockProcessMemory();
              rlimit limit{};
              getrlimit(RLIMIT_MEMLOCK, &limit);
              if (geteuid() != 0 && limit.rlim_cur != RLIM_INFINITY) {
                return lock.locked ? 10 : 0;  // not allowed here: must say so
              }
              if (!lock.locked) return 1;
              if (lock.message.find("mlockall") == std::string::npos) return 2;
              const long before = LockedKb();
              std::vector<char> big(8 << 20);
              for (size_t i = 0; i < big.size(); i += 4096) big[i] = 1;
              const long after = LockedKb();
              return after - before >= 8 * 1024 - 64 ? 0 : 3;
            }),
            0);
}

TEST(ProcessGuardTest, WithoutIpcLockAndAFiniteLimitNothingIsLockedAndTheMessageSaysWhy) {
  EXPECT_EQ(InChild([] {
              // Drop CAP_IPC_LOCK from the effective set (always allowed) and
              // lower the memlock limit to 64 KiB.
              __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
              __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
              if (syscall(SYS_capget, &header, data) != 0) return 1;
              data[CAP_IPC_LOCK / 32].effective &= ~(1u << (CAP_IPC_LOCK % 32));
              if (syscall(SYS_capset, &header, data) != 0) return 2;
              const rlimit small{64 << 10, 64 << 10};
              if (setrlimit(RLIMIT_MEMLOCK, &small) != 0) return 3;
              const MemoryLock lock = LockProcessMemory();
              if (lock.locked) return 4;
              if (lock.message.find("memlock limit (65536 bytes)") == std::string::npos) return 5;
              if (lock.message.find("CAP_IPC_LOCK") == std::string::npos) return 6;
              return LockedKb() == 0 ? 0 : 7;
            }),
            0);
}

}  // namespace
}  // namespace vmcrypt
