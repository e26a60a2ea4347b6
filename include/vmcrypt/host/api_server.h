// The host agent's control-plane API: JSON over HTTPS (TLS 1.2+), client
// certificate required (issued by the configured CA, or pinned by its
// SHA-256 fingerprint). The routes are in docs/host.md. Key bytes travel
// only inside a request body (PUT a key); no response, log line or error
// message ever holds them.
#ifndef VMCRYPT_HOST_API_SERVER_H_
#define VMCRYPT_HOST_API_SERVER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "vmcrypt/base/status.h"
#include "vmcrypt/host/agent.h"

namespace vmcrypt::host {

class HostApiServer {
 public:
  using Logger = std::function<void(const std::string&)>;

  // Binds config().listen (port 0 picks one) and serves in the background.
  // `agent` must outlive the server.
  static Result<std::unique_ptr<HostApiServer>> Start(HostAgent* agent, Logger log);
  ~HostApiServer();

  uint16_t port() const;
  // Stops accepting and waits for the requests in progress. Idempotent.
  void Shutdown();

  struct Impl;

 private:
  explicit HostApiServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vmcrypt::host

#endif  // VMCRYPT_HOST_API_SERVER_H_
