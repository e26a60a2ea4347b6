#ifndef VMCRYPT_BASE_THREAD_NAME_H_
#define VMCRYPT_BASE_THREAD_NAME_H_

#include <pthread.h>

namespace vmcrypt {

// Names the calling thread as `top -H`, `ps -L` and perf show it
// (/proc/self/task/TID/comm). Linux keeps 15 bytes; longer names are
// refused by the kernel and the thread keeps its old name.
inline void SetCurrentThreadName(const char* name) { pthread_setname_np(pthread_self(), name); }

}  // namespace vmcrypt

#endif  // VMCRYPT_BASE_THREAD_NAME_H_
