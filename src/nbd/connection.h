// One NBD client connection: the fixed newstyle handshake (handshake.cc,
// proto.md "Newstyle negotiation", "Option haggling") and then the
// transmission phase (transmission.cc, proto.md "Transmission").
//
// Threads: Run() is called by the connection's thread, which reads requests.
// With options.threads_per_connection > 1 it hands them to that many worker
// threads (started and joined inside Run), so several requests of one client
// are served at once and replies may come back out of order (proto.md
// "Transmission": the handle matches them); sends are serialised by
// send_mu_. The exports are shared with other connections; BlockDevices are
// thread-safe by contract.
#ifndef VMCRYPT_SRC_NBD_CONNECTION_H_
#define VMCRYPT_SRC_NBD_CONNECTION_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vmcrypt/base/status.h"
#include "vmcrypt/nbd/server.h"

namespace vmcrypt::nbd {

class Connection {
 public:
  // `fd` stays owned by the caller, which closes it after Run() returns.
  // `exports`, `options` and `log` must outlive the connection.
  Connection(int fd, std::string peer, const std::vector<Export>* exports,
             const ServerOptions* options, const Server::Logger* log)
      : fd_(fd), peer_(std::move(peer)), exports_(exports), options_(options), log_(log) {}

  // Serves the client until it disconnects, breaks the protocol or the
  // socket is shut down. Never throws; logs why the connection ended.
  void Run();

 private:
  struct Request {
    uint16_t flags;
    uint16_t type;
    uint64_t handle;
    uint64_t offset;
    uint32_t length;
  };

  // handshake.cc. Returns OK with export_ set when transmission may start,
  // Cancelled when the client aborted, another error to close.
  Status Handshake();
  Status HandleOption(uint32_t option, std::span<const uint8_t> data, bool* go);
  Status HandleInfo(uint32_t option, std::span<const uint8_t> data, bool* go);
  Status HandleList(uint32_t option, std::span<const uint8_t> data);
  Status SendOptionReply(uint32_t option, uint32_t type, std::span<const uint8_t> data = {});
  Status SendOptionError(uint32_t option, uint32_t type, std::string_view message);
  const Export* FindExport(std::string_view name) const;
  uint16_t TransmissionFlags(const Export& e) const;

  struct Job {
    Request req;
    std::vector<uint8_t> buf;  // the write payload, or room for the read data
  };

  // transmission.cc. Returns OK on NBD_CMD_DISC, an error when the
  // connection broke or the client broke the protocol.
  Status Transmission();
  Status ReadRequests(bool parallel);
  // Queues a job for the workers, waiting while too much is in flight.
  void Enqueue(Job job);
  void WorkerLoop();
  // Serves one request and sends its reply. An error means the reply could
  // not be sent: the connection is dead.
  Status Serve(const Request& req, std::vector<uint8_t>& buf);
  // Validates a request against the export; 0 or an NBD error value, and
  // `why` for the log / structured error message.
  uint32_t Check(const Request& req, std::string* why) const;
  Status ZeroFill(uint64_t offset, uint64_t length, bool fua);
  Status SendOk(const Request& req);
  Status SendReadData(const Request& req, std::span<const uint8_t> data);
  Status SendError(const Request& req, uint32_t error, std::string_view message);

  void Log(const std::string& line) const;

  int fd_;
  std::string peer_;
  const std::vector<Export>* exports_;
  const ServerOptions* options_;
  const Server::Logger* log_;

  bool fixed_newstyle_ = false;
  bool no_zeroes_ = false;
  bool structured_ = false;
  const Export* export_ = nullptr;

  std::mutex send_mu_;  // one reply at a time on the socket

  // The work queue (parallel mode).
  std::mutex q_mu_;
  std::condition_variable work_cv_;   // a job was queued, or closing_
  std::condition_variable space_cv_;  // a job finished
  std::deque<Job> queue_;
  int jobs_in_flight_ = 0;        // queued + being served
  uint64_t bytes_in_flight_ = 0;  // their READ/WRITE lengths
  bool closing_ = false;
  bool broken_ = false;                      // a reply could not be sent
  std::vector<std::vector<uint8_t>> spare_;  // buffers to reuse
};

}  // namespace vmcrypt::nbd

#endif  // VMCRYPT_SRC_NBD_CONNECTION_H_
