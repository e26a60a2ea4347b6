// Following center's tasks from the client commands: long polls of
// GET /tasks/{id}?wait=30 until a task finishes, its progress on stderr, and
// its outcome as the command's. Internal to the binary.
#ifndef VMCRYPT_SRC_CLI_CLIENT_TASKS_H_
#define VMCRYPT_SRC_CLI_CLIENT_TASKS_H_

#include <string>

#include "src/cli/client.h"
#include "src/cli/client_command.h"
#include "src/cli/client_output.h"
#include "vmcrypt/base/status.h"

namespace vmcrypt::cli::client {

// The task document's "id" as text; "" when it has none.
std::string TaskId(const Json& task);

// True when the task's state is "success" or "error".
bool Finished(const Json& task);

// "task 12 (vm.create vm vm1)", for messages.
std::string TaskLabel(const Json& task);

// Long-polls `task` until it finishes and returns the finished document;
// progress lines on stderr unless `quiet`. Waits as long as the task runs
// (Ctrl-C leaves it running). Errors: Internal when the document names no
// task id, else the poll's error.
Result<Json> WaitTask(CenterClient& c, Json task, bool quiet);

// A task-starting reply: with --no-wait prints it (or how to follow it) and
// returns 0; else waits, then exits 1 with the task's error, or prints its
// result (`human`, else its fields; with --json the task document, or only
// its "result" with `json_result`) and returns 0.
int FollowTask(const Args& a, CenterClient& c, const Result<Json>& queued,
               const Printer& human = nullptr, bool json_result = false);

// POST `path` and FollowTask the reply.
int PostTask(const Args& a, const std::string& path, const Json& body,
             const Printer& human = nullptr);

// For replies that carry the follow-up task they started in "task" (a host
// added: the native providers' keys pushed to it; a native provider added:
// its key pushed to the hosts). The task is waited for unless --no-wait and
// put back into the document; its failure is the command's.
int PostAndFollow(const Args& a, const std::string& path, const Json& body);

}  // namespace vmcrypt::cli::client

#endif  // VMCRYPT_SRC_CLI_CLIENT_TASKS_H_
