// nbd::Server: exports BlockDevices over the NBD protocol (fixed newstyle
// negotiation, NetworkBlockDevice/nbd doc/proto.md) on a unix socket or on a
// TCP address, for QEMU (`nbd+unix:///NAME?socket=PATH`), qemu-img, qemu-io,
// nbd-client and libnbd.
//
// What it speaks (details in docs/nbd.md): options EXPORT_NAME, GO, INFO
// (NBD_INFO_EXPORT, NAME, BLOCK_SIZE), LIST, ABORT, STRUCTURED_REPLY; others
// get NBD_REP_ERR_UNSUP. Commands READ, WRITE, DISC, FLUSH, TRIM,
// WRITE_ZEROES (NO_HOLE accepted), the FUA flag on every command, and DF on
// reads when structured replies are on. Requests are checked for bounds
// (ENOSPC for writes, EINVAL for reads past the end), alignment to the
// device's min_block_size() (EINVAL) and the 32 MiB payload limit (EINVAL,
// the connection survives). Every export is advertised with CAN_MULTI_CONN:
// the BlockDevice contract makes Flush cover writes from every connection.
//
// Threads: one acceptor, one thread per connection reading its requests, and
// threads_per_connection workers per connection serving them (replies may
// then come back out of order). A misbehaving client (garbage, a truncated
// request, a dropped connection) only ends its own connection.
//
// Ownership: the exported devices are borrowed and must outlive the server.
// Thread-safety: Start/port/Shutdown may be called from any thread.
#ifndef VMCRYPT_NBD_SERVER_H_
#define VMCRYPT_NBD_SERVER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "vmcrypt/base/status.h"
#include "vmcrypt/nbd/block_device.h"

namespace vmcrypt::nbd {

struct ServerOptions {
  // Exactly one of the two: a unix socket path (created mode 0600; a stale
  // socket nobody listens on is replaced, a live one is an error; removed on
  // Shutdown), or "HOST:PORT" with a numeric IPv4/IPv6 host (port 0 picks a
  // free port, see Server::port()).
  std::string unix_path;
  std::string listen;
  int max_connections = 64;
  // Requests of one connection served at the same time (QEMU keeps several
  // in flight on one connection). 1 answers them one by one, in order; more
  // lets replies come back out of order, which the protocol allows. At most
  // 64 MiB of request data is held per connection.
  int threads_per_connection = 4;
  // During option negotiation each read must complete within this time: a
  // silent client is dropped (idle clients in transmission are not).
  std::chrono::seconds handshake_timeout{30};
  // A reply that cannot be sent for this long ends the connection.
  std::chrono::seconds send_timeout{60};
  // Shutdown() waits this long for connections to finish their in-flight
  // request before cutting them off.
  std::chrono::seconds shutdown_grace{10};
};

struct Export {
  std::string name;         // what clients ask for; unique, at most 4096 bytes
  BlockDevice* device;      // borrowed
  std::string description;  // optional, sent as NBD_INFO_DESCRIPTION
};

class Server {
 public:
  // One line per connection event and per error (never data).
  using Logger = std::function<void(const std::string&)>;

  // Binds, listens and starts serving. Errors: InvalidArgument (bad options,
  // no export, duplicate or oversize name, null device), AlreadyExists (a
  // live server owns unix_path), Unavailable (bind/listen failed).
  static Result<std::unique_ptr<Server>> Start(const ServerOptions& options,
                                               std::vector<Export> exports, Logger log = nullptr);
  ~Server();  // Shutdown()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The bound TCP port (0 for a unix socket).
  uint16_t port() const;
  // Connections being served right now.
  int connections() const;
  // Stops accepting, lets every connection finish its in-flight request
  // (reads stop; replies are still sent), closes all sockets, joins all
  // threads and removes the unix socket. Idempotent.
  void Shutdown();

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vmcrypt::nbd

#endif  // VMCRYPT_NBD_SERVER_H_
