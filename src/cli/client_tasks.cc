// Waiting for center's tasks and reporting them (see client_tasks.h).
#include "src/cli/client_tasks.h"

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

namespace vmcrypt::cli::client {

std::string TaskId(const Json& task) {
  return task.is_object() && task.contains("id") ? Cell(task["id"]) : "";
}

bool Finished(const Json& task) {
  const std::string state = Str(task, "state");
  return state == "success" || state == "error";
}

std::string TaskLabel(const Json& task) {
  std::string label = "task " + TaskId(task);
  std::string what = task.contains("type") ? Cell(task["type"]) : "";
  if (task.contains("entity")) what += (what.empty() ? "" : " ") + Cell(task["entity"]);
  return what.empty() ? label : label + " (" + what + ")";
}

Result<Json> WaitTask(CenterClient& c, Json task, bool quiet) {
  const std::string id = TaskId(task);
  if (id.empty() || id == "-") return InternalError("center's reply names no task id");
  std::string last;
  while (!Finished(task)) {
    std::string now = Str(task, "state");
    if (task.contains("progress")) now += " " + Cell(task["progress"], "progress");
    if (!quiet && now != last) {
      std::fprintf(stderr, "%s: %s\n", TaskLabel(task).c_str(), now.c_str());
      last = now;
    }
    const auto start = std::chrono::steady_clock::now();
    ASSIGN_OR_RETURN(task, c.PollTask(id, CenterClient::kTaskWaitSeconds));
    // A center that answers at once without waiting is not polled in a
    // tight loop.
    if (!Finished(task) && std::chrono::steady_clock::now() - start < std::chrono::seconds(1)) {
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
  }
  return task;
}

namespace {

// Reports a finished task: exit 1 with its error, else its result (with
// --json the task document, or only its "result" with `json_result`).
int ReportTask(const Args& a, const Json& task, const Printer& human, bool json_result) {
  if (Str(task, "state") == "error") {
    if (a.json) PrintJson(task);
    return Fail(TaskLabel(task) + " failed: " +
                (task.contains("error") ? Cell(task["error"]) : "(no error message)"));
  }
  const Json result = task.contains("result") ? task["result"] : Json(nullptr);
  if (a.json) {
    PrintJson(json_result ? result : task);
    return 0;
  }
  std::printf("%s: success\n", TaskLabel(task).c_str());
  if (human) {
    human(result);
  } else if (result.is_object() && !result.empty()) {
    PrintObject(result, "  ");
  }
  return 0;
}

}  // namespace

int FollowTask(const Args& a, CenterClient& c, const Result<Json>& queued, const Printer& human,
               bool json_result) {
  if (!queued.ok()) return Fail(queued.status());
  if (a.no_wait) {
    if (a.json) {
      PrintJson(*queued);
    } else {
      std::printf("%s queued; follow it with: vmcrypt tasks %s --wait\n",
                  TaskLabel(*queued).c_str(), TaskId(*queued).c_str());
    }
    return 0;
  }
  auto done = WaitTask(c, *queued, a.json);
  if (!done.ok()) {
    return Fail("waiting for " + TaskLabel(*queued) + ": " + done.status().message());
  }
  return ReportTask(a, *done, human, json_result);
}

int PostTask(const Args& a, const std::string& path, const Json& body, const Printer& human) {
  return WithClient(a,
                    [&](CenterClient& c) { return FollowTask(a, c, c.Post(path, body), human); });
}

int PostAndFollow(const Args& a, const std::string& path, const Json& body) {
  return WithClient(a, [&](CenterClient& c) {
    auto reply = c.Post(path, body);
    if (!reply.ok()) return Fail(reply.status());
    Json doc = *reply;
    const bool has_task = doc.is_object() && doc.contains("task") && !TaskId(doc["task"]).empty();
    if (has_task && !a.no_wait && !Finished(doc["task"])) {
      auto done = WaitTask(c, doc["task"], a.json);
      if (!done.ok()) {
        return Fail("waiting for " + TaskLabel(doc["task"]) + ": " + done.status().message());
      }
      doc["task"] = *done;
    }
    if (a.json) {
      PrintJson(doc);
    } else {
      PrintObject(doc);
    }
    if (has_task && Str(doc["task"], "state") == "error") {
      return Fail(TaskLabel(doc["task"]) + " failed: " + Cell(Member(doc["task"], "error")));
    }
    return 0;
  });
}

}  // namespace vmcrypt::cli::client
