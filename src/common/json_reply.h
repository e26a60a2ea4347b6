// JSON replies for the REST APIs (center and host agent), internal to src/:
// both API servers answer through these, so an error has one shape,
// {"error": message, "code": "NOT_FOUND"}, and one HTTP status per
// StatusCode (HttpStatusFor). Callers bring them in with
// `using internal::Reply; using internal::Fail;`.
//
// Header-only because vmcrypt_base must not depend on httplib; each target
// that includes it already links httplib and nlohmann_json.
//
// Thread-safety: stateless functions on caller-owned objects.
#ifndef VMCRYPT_SRC_COMMON_JSON_REPLY_H_
#define VMCRYPT_SRC_COMMON_JSON_REPLY_H_

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <string>

#include "vmcrypt/base/status.h"

namespace vmcrypt::internal {

// Sets `res` to HTTP `status` with `body` as application/json.
inline void Reply(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

// Answers error `s` (precondition: !s.ok()) with HttpStatusFor(s.code()) and
// {"error": s.message(), "code": StatusCodeName(s.code())}. The message goes
// to the client as is, so it must carry no key material (status.h).
inline void Fail(httplib::Response& res, const Status& s) {
  Reply(res, HttpStatusFor(s.code()),
        {{"error", s.message()}, {"code", std::string(StatusCodeName(s.code()))}});
}

}  // namespace vmcrypt::internal

#endif  // VMCRYPT_SRC_COMMON_JSON_REPLY_H_
