// AuditLog: one JSON line per operation, appended without a lock; lines from
// concurrent requests never interleave and none is lost.
#include "vmcrypt/kms/audit.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "src/base/test_dir.h"

namespace vmcrypt::kms {
namespace {

TEST(AuditLogTest, ConcurrentRecordsAreWholeLinesInOrderPerWriter) {
  const test::TestDir dir("audit");
  const std::string path = dir["audit.log"];
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
}

// The hand-formatted lines are byte for byte what nlohmann's dump() gives
// (ensure_ascii off, invalid UTF-8 replaced by U+FFFD) for every kind of
// character a certificate subject or a peer could carry.
TEST(AuditLogTest, LinesAreExactlyNlohmannsJson) {
  const test::TestDir dir("audit");
  const std::string path = dir["audit.log"];
  const std::vector<std::string> texts = {
      "CN=plain,O=Example",
      "quote \" backslash \\ slash /",
      std::string("controls \b\f\n\r\t \x01\x1f\x7f and a NUL \0 inside", 39),
      "UTF-8: caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91",
      "stray \xff and \x80 bytes",
      "overlong \xc0\xaf, \xe0\x80\xaf, surrogate \xed\xa0\x80",
      "broken \xe2\x82A and \xf0\x9f\x94 then text",
      "truncated at the end \xe2\x82",
      "",
  };
  std::vector<std::string> expected;
  {
    auto log = AuditLog::Open(path);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    for (size_t i = 0; i < texts.size(); ++i) {
      const std::string& t = texts[i];
      ClientIdentity client{"c" + t, "tenant " + t, t, "AB:" + t};
      OperationRecord rec{kmip::Operation::kGet, t, kmip::ResultStatus::kOperationFailed,
                          kmip::ResultReason::kItemNotFound};
      if (i % 2 == 1) rec = {kmip::Operation::kCreate, "", kmip::ResultStatus::kSuccess, {}};
      (*log)->Record(1700000000 + static_cast<int64_t>(i), client, "peer " + t, {rec});

      nlohmann::ordered_json j;
      j["time"] = "";  // filled in from the line below
      j["client"] = client.name;
      j["subject"] = client.subject;
      j["fingerprint"] = client.fingerprint;
      j["tenant"] = client.tenant;
      j["peer"] = "peer " + t;
      j["operation"] = i % 2 == 1 ? "Create" : "Get";
      if (!rec.uid.empty()) j["uid"] = rec.uid;
      j["result"] = i % 2 == 1 ? "success" : "failure";
      if (rec.reason) j["reason"] = "Item Not Found";
      expected.push_back(j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
    }
  }
  std::ifstream in(path);
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) {
    ASSERT_LT(n, expected.size());
    // The time differs per line; compare it apart from the rest.
    const std::string time = line.substr(9, 20);
    EXPECT_EQ(time.size(), 20u);
    std::string want = expected[n];
    want.replace(9, want.find('"', 9) - 9, time);
    EXPECT_EQ(line, want) << "text " << n;
    ++n;
  }
  EXPECT_EQ(n, texts.size());
}

}  // namespace
}  // namespace vmcrypt::kms
