// kmip::Client: a KMIP client over TLS 1.2/1.3 with mutual authentication
// (KMIP 1.4 §8, KMIP Profiles "TLS" authentication suites).
//
// The client verifies the server against a CA file (with host name or IP
// check) or against a pinned certificate, presents a client certificate, sets
// TCP_NODELAY, and bounds connect and every read/write by timeouts. The
// connection is opened on first use and reused for later calls; if the
// server closed it while idle, the next call reconnects before sending (a
// request is never sent twice).
//
// Every batch item gets an 8-byte Unique Batch Item ID; responses are matched
// by it. Typed helpers return the typed payload, or a Status built from the
// KMIP Result Reason and Message ("Item Not Found: ...").
//
// Thread-safety: one Client per thread (calls are serialized by the caller).
#ifndef VMCRYPT_KMIP_CLIENT_H_
#define VMCRYPT_KMIP_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "vmcrypt/base/status.h"
#include "vmcrypt/kmip/message.h"
#include "vmcrypt/kmip/payloads.h"
#include "vmcrypt/kmip/tls_socket.h"
#include "vmcrypt/kmip/version.h"

namespace vmcrypt::kmip {

struct ClientOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 5696;
  // Server authentication: a CA file (PEM), or a pinned server certificate
  // (PEM; the server must present exactly this certificate). One is required.
  std::string ca_file;
  std::string pinned_server_cert_file;
  // The name checked against the server certificate; defaults to `host`.
  std::string server_name;
  // Client authentication (PEM). Both or neither.
  std::string cert_file;
  std::string key_file;
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds io_timeout{30000};
  // The protocol version put in every request header.
  ProtocolVersion version = kKmip14;
  // Largest response accepted.
  size_t max_response_size = 16 * 1024 * 1024;
  // Offers the previous connection's TLS session when reconnecting (session
  // resumption: RFC 8446 §2.2, RFC 5246 §7.3), as clients with a session
  // cache do: no certificates are exchanged or verified again.
  bool resume_sessions = false;
};

// The two halves of Client::Call, for callers that do their own I/O: the
// wire bytes of a request message with one item for `op` (a fresh Unique
// Batch Item ID), and the Response Payload of the one-item response
// message `response` (its item's error when it failed; an empty payload
// structure when it had none).
Result<ttlv::Bytes> EncodeSingleRequest(Operation op, const ttlv::Item& payload,
                                        ProtocolVersion version);
Result<ttlv::Item> SingleResponsePayload(Operation op, ResponseMessage response);

class Client {
 public:
  // Checks the options and loads the certificates and key; does not connect.
  static Result<std::unique_ptr<Client>> Create(const ClientOptions& options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const ClientOptions& options() const { return options_; }
  void set_version(ProtocolVersion v) { options_.version = v; }

  // Sends one request message (its version and Unique Batch Item IDs are
  // filled in when unset) and returns the response message, each response
  // item in the order of the request's items. Transport, TLS and decoding
  // failures are errors; failed batch items are not (see ResponseBatchItem).
  Result<ResponseMessage> Send(RequestMessage request);

  // One operation: returns the Response Payload, or the item's error.
  Result<ttlv::Item> Call(Operation op, const ttlv::Item& request_payload);

  // Typed operations.
  Result<DiscoverVersionsResponse> DiscoverVersions(const std::vector<ProtocolVersion>& v = {});
  Result<QueryResponse> Query(const std::vector<uint32_t>& functions);
  Result<CreateResponse> Create(const CreateRequest& request);
  Result<RegisterResponse> Register(const RegisterRequest& request);
  Result<GetResponse> Get(const GetRequest& request);
  Result<GetAttributesResponse> GetAttributes(const GetAttributesRequest& request);
  Result<GetAttributeListResponse> GetAttributeList(const std::string& uid);
  Result<AttributeChangeResponse> AddAttribute(const AddAttributeRequest& request);
  Result<LocateResponse> Locate(const LocateRequest& request);
  Status Activate(const std::string& uid);
  Status Revoke(const RevokeRequest& request);
  Status Destroy(const std::string& uid);

  // A new TLS connection with this client's options and certificates, for
  // a caller that runs its own I/O loop (kms-load); the client's own
  // connection is not touched.
  Result<std::unique_ptr<TlsSocket>> OpenSocket();

  // Closes the connection (sending a TLS close_notify); the next call
  // reconnects.
  void Close();
  bool connected() const;
  // Whether the open connection resumed an earlier TLS session.
  bool resumed() const;

 private:
  class Connection;
  explicit Client(const ClientOptions& options);

  ClientOptions options_;
  struct TlsContext;
  std::unique_ptr<TlsContext> tls_;
  std::unique_ptr<Connection> conn_;
};

}  // namespace vmcrypt::kmip

#endif  // VMCRYPT_KMIP_CLIENT_H_
