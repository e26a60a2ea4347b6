// CenterClient: the HTTPS client of center's REST API (docs/api.md) used by
// the `vmcrypt provider|cluster|host|vm|...` commands. Internal to the
// binary.
//
// The endpoint ("https://HOST:PORT"), the API token and the CA file that
// issued center's certificate come from flags or, when a flag is empty, from
// VMCRYPT_CENTER, VMCRYPT_TOKEN and VMCRYPT_CA. The server's certificate is
// verified against that CA, host name included. The token is sent as
// "Authorization: Bearer TOKEN" and never appears in a message.
//
// Error replies ({"error", "code"} with an HTTP status) become a Status
// whose message reads "403 PermissionDenied: user bob ...".
//
// Thread-safety: one CenterClient per thread.
#ifndef VMCRYPT_SRC_CLI_CLIENT_H_
#define VMCRYPT_SRC_CLI_CLIENT_H_

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "vmcrypt/base/status.h"

namespace vmcrypt::cli {

using Json = nlohmann::json;

// Where center is and how to authenticate; empty fields fall back to the
// environment.
struct CenterFlags {
  std::string center;  // --center / VMCRYPT_CENTER
  std::string token;   // --token / VMCRYPT_TOKEN
  std::string ca;      // --ca / VMCRYPT_CA
};

class CenterClient {
 public:
  // Default port when the endpoint names none (CenterConfig's default).
  static constexpr int kDefaultPort = 8440;
  // Seconds a task long-poll asks center to wait (GET /tasks/{id}?wait=N);
  // the read timeout allows that plus kReadTimeoutSeconds.
  static constexpr int kTaskWaitSeconds = 30;
  static constexpr int kConnectTimeoutSeconds = 10;
  static constexpr int kReadTimeoutSeconds = 30;

  // Resolves flags and environment. InvalidArgument naming the flag and the
  // variable when the endpoint, token or CA is missing or the endpoint is
  // not "https://HOST[:PORT]"; NotFound when the CA file cannot be read or
  // holds no PEM certificate. Does not connect yet.
  static Result<std::unique_ptr<CenterClient>> Create(const CenterFlags& flags);
  ~CenterClient();

  // "https://HOST:PORT", for messages.
  const std::string& endpoint() const { return endpoint_; }

  // Requests on paths under /api/v1 (`path` starts with "/", e.g. "/vms");
  // return the JSON body of a 2xx reply. Errors: Unavailable "cannot reach
  // center at URL ..." (connection refused, timeout), Unauthenticated for a
  // TLS verification failure or HTTP 401, and the HTTP error reply mapped
  // to a code (400 InvalidArgument, 403 PermissionDenied, 404 NotFound, 409
  // FailedPrecondition, 503 Unavailable, else Internal) with the message
  // "STATUS CODE: ERROR".
  Result<Json> Get(const std::string& path);
  Result<Json> Post(const std::string& path, const Json& body);
  Result<Json> Delete(const std::string& path);

  // GET /tasks/{id}?wait=`wait_seconds`: the task document, finished or
  // not.
  Result<Json> PollTask(const std::string& id, int wait_seconds);

  // Percent-encodes one path segment (a VM, host or provider name).
  static std::string Escape(const std::string& segment);

 private:
  struct Http;
  CenterClient(std::string endpoint, std::unique_ptr<Http> http);
  Result<Json> Send(const char* method, const std::string& path, const Json* body,
                    int extra_read_seconds);

  std::string endpoint_;
  std::unique_ptr<Http> http_;
};

}  // namespace vmcrypt::cli

#endif  // VMCRYPT_SRC_CLI_CLIENT_H_
