// AuditLog: one JSON line per operation, appended without a lock; lines from
// concurrent requests never interleave and none is lost.
#include "vmcrypt/kms/audit.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

namespace vmcrypt::kms {
namespace {

TEST(AuditLogTest, ConcurrentRecordsAreWholeLinesInOrderPerWriter) {
  const std::string path = std::filesystem::temp_directory_path() /
                           ("vmcrypt-audit-" + std::to_string(::getpid()) + ".log");
  std::filesystem::remove(path);
  {
    auto log = AuditLog::Open(path);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    std::vector<std::thread> writers;
    for (int w = 0; w < 8; ++w) {
      writers.emplace_back([&, w] {
        ClientIdentity client{"client" + std::to_string(w), "default", "CN=c", "AB:CD"};
        for (int i = 0; i < 500; ++i) {
          OperationRecord get{kmip::Operation::kGet, std::to_string(i),
                              kmip::ResultStatus::kSuccess, std::nullopt};
          OperationRecord missing{kmip::Operation::kGet, std::to_string(i),
                                  kmip::ResultStatus::kOperationFailed,
                                  kmip::ResultReason::kItemNotFound};
          (*log)->Record(1700000000 + i, client, "127.0.0.1:1", {get, missing});
        }
      });
    }
    for (std::thread& t : writers) t.join();
  }
  std::ifstream in(path);
  std::string line;
  std::map<std::string, int> next;  // per client: the uid expected next
  std::map<std::string, bool> failed_next;
  size_t lines = 0;
  while (std::getline(in, line)) {
    ++lines;
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    ASSERT_FALSE(j.is_discarded()) << "not a JSON line: " << line;
    const std::string client = j["client"];
    const int uid = std::stoi(j["uid"].get<std::string>());
    EXPECT_EQ(uid, next[client]);
    if (j["result"] == "success") {
      EXPECT_FALSE(failed_next[client]);
      failed_next[client] = true;
    } else {
      EXPECT_TRUE(failed_next[client]);
      EXPECT_EQ(j["reason"], "Item Not Found");
      failed_next[client] = false;
      next[client] = uid + 1;
    }
  }
  EXPECT_EQ(lines, 8u * 500u * 2u);
  for (const auto& [client, n] : next) EXPECT_EQ(n, 500) << client;
  EXPECT_EQ(std::filesystem::status(path).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                std::filesystem::perms::group_read);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace vmcrypt::kms
