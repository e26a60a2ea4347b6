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

#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

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

// Binds `server` to `listen` ("HOST:PORT"; port 0 picks a free port) and
// serves it on a new thread, stored in *thread. Returns the bound port;
// InvalidArgument for a malformed address, Unavailable when it cannot be
// bound. Stop with server.stop(), then join the thread.
inline Result<uint16_t> BindAndServe(httplib::Server& server, const std::string& listen,
                                     std::thread* thread) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return InvalidArgumentError("listen must be HOST:PORT");
  const std::string host = listen.substr(0, colon);
  const int want = std::atoi(listen.c_str() + colon + 1);
  int port = want;
  if (want == 0) {
    port = server.bind_to_any_port(host);
  } else if (!server.bind_to_port(host, want)) {
    port = -1;
  }
  if (port <= 0 || port > 65535) return UnavailableError("cannot listen on " + listen);
  *thread = std::thread([&server] { server.listen_after_bind(); });
  return static_cast<uint16_t>(port);
}

}  // namespace vmcrypt::internal

#endif  // VMCRYPT_SRC_COMMON_JSON_REPLY_H_
