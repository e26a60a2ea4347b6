#ifndef VMCRYPT_BASE_THREAD_PRIORITY_H_
#define VMCRYPT_BASE_THREAD_PRIORITY_H_

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace vmcrypt {

// Sets the calling thread's nice value (Linux schedules threads one by one,
// so this leaves the rest of the process alone). A negative value needs
// CAP_SYS_NICE or RLIMIT_NICE; without them the call fails and the thread
// stays level with the others, which is all the callers ask for then.
inline bool SetCurrentThreadNice(int nice) {
  return setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), nice) == 0;
}

}  // namespace vmcrypt

#endif  // VMCRYPT_BASE_THREAD_PRIORITY_H_
