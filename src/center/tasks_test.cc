// TaskRunner: state, progress, result, one task at a time per entity, and
// tasks a stopped center left behind reported as failed.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "src/base/test_dir.h"
#include "src/center/center_impl.h"

namespace vmcrypt::center {
namespace {

class TaskRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = OpenSqliteCenterStore(dir_["center.db"]);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    ASSERT_TRUE(store_->Put("settings", "task_counter", Json::object()).ok());
  }
  test::TestDir dir_{"tasks"};  // outlives store_
  std::unique_ptr<CenterStore> store_;
};

TEST_F(TaskRunnerTest, RecordsStateProgressAndResult) {
  std::vector<Json> done;
  std::mutex mu;
  TaskRunner runner(store_.get(), 2, [&](const Json& t) {
    std::lock_guard<std::mutex> lock(mu);
    done.push_back(t);
  });
  auto ok = runner.Submit("vm-open", "vm", "vm1", "admin", "open VM vm1", [](TaskContext& ctx) {
    ctx.Progress(50, "half way");
    return Result<Json>(Json{{"answer", 42}});
  });
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ((*ok)["state"], "queued");
  EXPECT_EQ((*ok)["id"], "task-00000001");
  auto bad = runner.Submit("vm-open", "vm", "vm2", "admin", "open VM vm2", [](TaskContext&) {
    return Result<Json>(UnavailableError("host host1 (127.0.0.1:1) unreachable"));
  });
  ASSERT_TRUE(bad.ok());

  auto t1 = runner.Wait("task-00000001", std::chrono::seconds(10));
  ASSERT_TRUE(t1.ok());
  EXPECT_EQ((*t1)["state"], "success");
  EXPECT_EQ((*t1)["progress"], 100);
  EXPECT_EQ((*t1)["step"], "half way");
  EXPECT_EQ((*t1)["result"]["answer"], 42);
  EXPECT_FALSE((*t1)["started"].is_null());
  EXPECT_FALSE((*t1)["completed"].is_null());
  auto t2 = runner.Wait("task-00000002", std::chrono::seconds(10));
  ASSERT_TRUE(t2.ok());
  EXPECT_EQ((*t2)["state"], "error");
  EXPECT_EQ((*t2)["error"], "host host1 (127.0.0.1:1) unreachable");
  EXPECT_EQ((*t2)["error_code"], "UNAVAILABLE");
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(done.size(), 2u);  // one callback (and so one event) per task
}

TEST_F(TaskRunnerTest, TasksOnOneEntityRunOneAtATimeInOrder) {
  std::atomic<int> running{0};
  std::atomic<int> overlap{0};
  std::vector<int> order;
  std::mutex mu;
  {
    TaskRunner runner(store_.get(), 4, nullptr);
    for (int i = 0; i < 6; ++i) {
      ASSERT_TRUE(runner
                      .Submit("vm-rekey", "vm", "vm1", "admin", "rekey",
                              [&, i](TaskContext&) {
                                if (running.fetch_add(1) > 0) overlap++;
                                std::this_thread::sleep_for(std::chrono::milliseconds(20));
                                {
                                  std::lock_guard<std::mutex> lock(mu);
                                  order.push_back(i);
                                }
                                running.fetch_sub(1);
                                return Result<Json>(Json::object());
                              })
                      .ok());
    }
  }  // the destructor finishes the queue
  EXPECT_EQ(overlap.load(), 0);
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5}));
}

TEST_F(TaskRunnerTest, TasksOnDifferentEntitiesRunTogether) {
  std::atomic<int> running{0};
  std::atomic<int> most{0};
  {
    TaskRunner runner(store_.get(), 4, nullptr);
    for (int i = 0; i < 4; ++i) {
      ASSERT_TRUE(runner
                      .Submit("vm-open", "vm", "vm" + std::to_string(i), "admin", "open",
                              [&](TaskContext&) {
                                int now = running.fetch_add(1) + 1;
                                int seen = most.load();
                                while (now > seen && !most.compare_exchange_weak(seen, now)) {
                                }
                                std::this_thread::sleep_for(std::chrono::milliseconds(100));
                                running.fetch_sub(1);
                                return Result<Json>(Json::object());
                              })
                      .ok());
    }
  }
  EXPECT_GT(most.load(), 1);
}

TEST_F(TaskRunnerTest, TasksLeftByAStoppedCenterAreMarkedFailed) {
  Json left = {{"id", "task-00000007"},
               {"state", "running"},
               {"progress", 40},
               {"entity", {{"type", "vm"}, {"name", "vm1"}}}};
  ASSERT_TRUE(store_->Put("tasks", "task-00000007", left).ok());
  Json finished = {{"id", "task-00000006"}, {"state", "success"}, {"progress", 100}};
  ASSERT_TRUE(store_->Put("tasks", "task-00000006", finished).ok());
  TaskRunner runner(store_.get(), 1, nullptr);
  ASSERT_TRUE(runner.FailInterrupted().ok());
  auto t = store_->Get("tasks", "task-00000007");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ((*t)["state"], "error");
  EXPECT_NE((*t)["error"].get<std::string>().find("run it again"), std::string::npos);
  EXPECT_EQ((*store_->Get("tasks", "task-00000006"))["state"], "success");
}

TEST_F(TaskRunnerTest, WaitOnAnUnknownTaskIsNotFound) {
  TaskRunner runner(store_.get(), 1, nullptr);
  EXPECT_EQ(runner.Wait("task-99999999", std::chrono::milliseconds(10)).status().code(),
            StatusCode::kNotFound);
}

}  // namespace
}  // namespace vmcrypt::center
