// Center's REST API: JSON over HTTPS (TLS 1.2+), bearer tokens
// ("Authorization: Bearer vmc_..."), the routes of docs/api.md. Every
// request is logged (method, path, status, user); bodies never are (a
// trust request may carry a private key, a restore request a password).
#ifndef VMCRYPT_CENTER_API_SERVER_H_
#define VMCRYPT_CENTER_API_SERVER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "vmcrypt/base/status.h"
#include "vmcrypt/center/center.h"

namespace vmcrypt::center {

class CenterApiServer {
 public:
  using Logger = std::function<void(const std::string&)>;

  // Binds center->config().listen (port 0 picks one) and serves in the
  // background. `center` must outlive the server.
  static Result<std::unique_ptr<CenterApiServer>> Start(Center* center, Logger log);
  ~CenterApiServer();

  uint16_t port() const;
  // Stops accepting and waits for the requests in progress. Idempotent.
  void Shutdown();

  struct Impl;

 private:
  explicit CenterApiServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vmcrypt::center

#endif  // VMCRYPT_CENTER_API_SERVER_H_
