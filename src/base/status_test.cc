#include "vmcrypt/base/status.h"

#include <gtest/gtest.h>

namespace vmcrypt {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return InvalidArgumentError("odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  ASSIGN_OR_RETURN(int h, Half(x));
  ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

Status CheckEven(int x) {
  RETURN_IF_ERROR(Half(x).status());
  return OkStatus();
}

TEST(StatusTest, OkAndError) {
  EXPECT_TRUE(OkStatus().ok());
  EXPECT_EQ(OkStatus().ToString(), "OK");
  Status s = NotFoundError("no key 7");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.ToString(), "NOT_FOUND: no key 7");
  EXPECT_EQ(s.WithContext("get").message(), "get: no key 7");
}

TEST(StatusTest, ResultPropagates) {
  EXPECT_EQ(*Quarter(8), 2);
  Result<int> r = Quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "odd");
  EXPECT_TRUE(CheckEven(4).ok());
  EXPECT_EQ(CheckEven(3).code(), StatusCode::kInvalidArgument);
}

TEST(StatusTest, HttpStatusForEachCode) {
  const std::pair<StatusCode, int> cases[] = {
      {StatusCode::kInvalidArgument, 400},    {StatusCode::kOutOfRange, 400},
      {StatusCode::kUnauthenticated, 401},    {StatusCode::kPermissionDenied, 403},
      {StatusCode::kNotFound, 404},           {StatusCode::kAlreadyExists, 409},
      {StatusCode::kFailedPrecondition, 409}, {StatusCode::kUnavailable, 503},
      {StatusCode::kDeadlineExceeded, 503},   {StatusCode::kUnimplemented, 501},
      {StatusCode::kDataLoss, 500},           {StatusCode::kInternal, 500},
      {StatusCode::kCancelled, 500},          {StatusCode::kOk, 500},
  };
  for (const auto& [code, http] : cases) {
    EXPECT_EQ(HttpStatusFor(code), http) << StatusCodeName(code);
  }
}

TEST(StatusDeathTest, ResultFromOkAborts) {
  EXPECT_DEATH({ Result<int> r(OkStatus()); }, "");
}

TEST(StatusDeathTest, ValueOfErrorAborts) {
  EXPECT_DEATH(
      {
        Result<int> r(InternalError("x"));
        (void)r.value();
      },
      "");
}

}  // namespace
}  // namespace vmcrypt
