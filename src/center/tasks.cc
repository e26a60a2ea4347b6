// TaskRunner: asynchronous tasks with state, progress and result, persisted
// in the "tasks" collection so that they survive in the history (and a task
// a crash interrupted is reported as failed, not as running forever).
#include <cinttypes>
#include <cstdio>

#include "src/center/center_impl.h"

namespace vmcrypt::center {

void TaskContext::Progress(int percent, const std::string& step) {
  (void)store_->Update("tasks", id_, [&](Json& t) {
    t["progress"] = std::clamp(percent, 0, 100);
    t["step"] = step;
    return OkStatus();
  });
}

TaskRunner::TaskRunner(CenterStore* store, int threads, OnDone on_done)
    : store_(store), on_done_(std::move(on_done)) {
  for (int i = 0; i < std::max(1, threads); ++i) threads_.emplace_back([this] { Work(); });
}

TaskRunner::~TaskRunner() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : threads_) t.join();
}

Result<Json> TaskRunner::Submit(const std::string& type, const std::string& entity_type,
                                const std::string& entity_name, const std::string& user,
                                const std::string& description, Body body) {
  ASSIGN_OR_RETURN(Json counter, store_->Update("settings", "task_counter", [](Json& c) {
    c["next"] = c.value("next", int64_t{0}) + 1;
    return OkStatus();
  }));
  char id[32];
  std::snprintf(id, sizeof(id), "task-%08" PRId64, counter["next"].get<int64_t>());
  Json task = {{"id", id},
               {"type", type},
               {"entity", {{"type", entity_type}, {"name", entity_name}}},
               {"user", user},
               {"description", description},
               {"state", "queued"},
               {"progress", 0},
               {"step", ""},
               {"result", nullptr},
               {"error", ""},
               {"queued", NowRfc3339()},
               {"started", nullptr},
               {"completed", nullptr}};
  RETURN_IF_ERROR(store_->Insert("tasks", id, task));
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return UnavailableError("center is shutting down; the task was not started");
    queue_.push_back(Item{id, entity_type + "/" + entity_name, std::move(body)});
  }
  cv_.notify_all();
  return task;
}

bool TaskRunner::Runnable(const Item& item) const { return busy_.count(item.entity) == 0; }

void TaskRunner::Work() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    auto it = queue_.end();
    cv_.wait(lock, [&] {
      // The first queued task whose entity is free (order per entity kept:
      // an earlier task of the same entity blocks the later ones).
      std::map<std::string, bool> seen;
      for (it = queue_.begin(); it != queue_.end(); ++it) {
        if (Runnable(*it) && !seen[it->entity]) return true;
        seen[it->entity] = true;
      }
      return stop_ && queue_.empty();
    });
    if (it == queue_.end()) return;  // stopping, nothing left
    Item item = std::move(*it);
    queue_.erase(it);
    busy_[item.entity]++;
    finishing_.insert(item.id);
    lock.unlock();

    (void)store_->Update("tasks", item.id, [](Json& t) {
      t["state"] = "running";
      t["started"] = NowRfc3339();
      return OkStatus();
    });
    TaskContext ctx(store_, item.id);
    Result<Json> result = item.body(ctx);
    Result<Json> done = store_->Update("tasks", item.id, [&](Json& t) {
      t["completed"] = NowRfc3339();
      if (result.ok()) {
        t["state"] = "success";
        t["progress"] = 100;
        t["result"] = *result;
      } else {
        t["state"] = "error";
        t["error"] = result.status().message();
        t["error_code"] = std::string(StatusCodeName(result.status().code()));
      }
      return OkStatus();
    });
    if (done.ok() && on_done_) on_done_(*done);

    lock.lock();
    if (--busy_[item.entity] == 0) busy_.erase(item.entity);
    finishing_.erase(item.id);
    ++finished_count_;
    done_cv_.notify_all();
    cv_.notify_all();
  }
}

Result<Json> TaskRunner::Wait(const std::string& id, std::chrono::milliseconds wait) {
  auto deadline = std::chrono::steady_clock::now() + wait;
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    // The store is read without the lock; a task that finishes meanwhile
    // bumps finished_count_, so its wake-up is not lost.
    const uint64_t seen = finished_count_;
    lock.unlock();
    ASSIGN_OR_RETURN(Json task, store_->Get("tasks", id));
    lock.lock();
    std::string state = task.value("state", "");
    // Finished once its end is recorded and its callback (the task's event)
    // has run: a waiter never sees a task done before its event exists.
    if ((state == "success" || state == "error") && finishing_.count(id) == 0) return task;
    if (finished_count_ != seen) continue;
    if (done_cv_.wait_until(lock, deadline) == std::cv_status::timeout) {
      lock.unlock();
      return store_->Get("tasks", id);
    }
  }
}

Status TaskRunner::FailInterrupted() {
  ASSIGN_OR_RETURN(std::vector<Json> tasks, store_->List("tasks"));
  for (const Json& t : tasks) {
    std::string state = t.value("state", "");
    if (state != "queued" && state != "running") continue;
    RETURN_IF_ERROR(
        store_
            ->Update("tasks", t["id"].get<std::string>(),
                     [](Json& u) {
                       u["state"] = "error";
                       u["error"] =
                           "center stopped during the task; run it again (every step is resumable)";
                       u["completed"] = NowRfc3339();
                       return OkStatus();
                     })
            .status());
  }
  return OkStatus();
}

}  // namespace vmcrypt::center
