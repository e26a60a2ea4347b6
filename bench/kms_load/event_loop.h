// kms-load's persistent mode without a thread per connection: a few threads
// (--loop-threads) each drive their share of the connections through epoll,
// as wrk does for HTTP. Each
// connection has one request in flight at a time; when its response is in
// and checked, the connection sends its next request at once. The load
// tool then spends its CPU on TLS and KMIP encoding rather than on waking
// sixteen threads per round trip, which matters when it shares the
// machine with the server it measures.
#ifndef VMCRYPT_BENCH_KMS_LOAD_EVENT_LOOP_H_
#define VMCRYPT_BENCH_KMS_LOAD_EVENT_LOOP_H_

#include <memory>
#include <vector>

#include "bench/kms_load/workload.h"
#include "vmcrypt/kmip/tls_socket.h"

namespace vmcrypt::bench {

// Runs `workers[i]` over `sockets[i]` (open, handshaken, non-blocking) until
// `deadline`; requests in flight at the deadline are finished. A connection
// that fails (I/O error, bad response framing) stops, with the error counted
// in its worker's stats. `max_message` bounds a response. Every worker's
// statistics are in the worker afterwards.
void RunEventLoop(const std::vector<Worker*>& workers,
                  std::vector<std::unique_ptr<kmip::TlsSocket>>& sockets,
                  Worker::Clock::time_point deadline, size_t max_message);

}  // namespace vmcrypt::bench

#endif  // VMCRYPT_BENCH_KMS_LOAD_EVENT_LOOP_H_
