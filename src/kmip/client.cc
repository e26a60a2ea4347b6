#include "vmcrypt/kmip/client.h"

#include <openssl/pem.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstdio>

#include "src/kmip/openssl_util.h"
#include "vmcrypt/kmip/tls_socket.h"
#include "vmcrypt/ttlv/codec.h"
#include "vmcrypt/ttlv/tags.h"

namespace vmcrypt::kmip {

using Clock = TlsSocket::Clock;
using internal::OpenSslErrors;

struct Client::TlsContext {
  internal::SslCtxPtr ctx;
  internal::X509Ptr pinned;
  // The last connection's session, when options.resume_sessions.
  internal::SslSessionPtr session;
};

class Client::Connection {
 public:
  explicit Connection(std::unique_ptr<TlsSocket> socket) : socket_(std::move(socket)) {}
  TlsSocket& socket() { return *socket_; }

 private:
  std::unique_ptr<TlsSocket> socket_;
};

namespace {

Result<internal::X509Ptr> LoadCertificate(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return NotFoundError("cannot open certificate " + path);
  internal::X509Ptr cert(PEM_read_X509(f, nullptr, nullptr, nullptr));
  std::fclose(f);
  if (!cert) return InvalidArgumentError("no PEM certificate in " + path);
  return cert;
}

// Uniqueness within one message is all a Unique Batch Item ID needs (KMIP
// 1.4 §6.4): a per-thread counter from a random start gives it without a
// RAND_bytes call (and the getpid of its fork check) per request.
ttlv::Bytes NextBatchId() {
  thread_local uint64_t next = [] {
    uint64_t start = 0;
    RAND_bytes(reinterpret_cast<unsigned char*>(&start), sizeof(start));  // 0 if it fails
    return start;
  }();
  const uint64_t value = next++;
  ttlv::Bytes id(8);
  for (int i = 0; i < 8; ++i) id[i] = static_cast<uint8_t>(value >> (8 * (7 - i)));
  return id;
}

}  // namespace

Client::Client(const ClientOptions& options) : options_(options) {}
Client::~Client() { Close(); }

Result<std::unique_ptr<Client>> Client::Create(const ClientOptions& options) {
  if (options.ca_file.empty() == options.pinned_server_cert_file.empty()) {
    return InvalidArgumentError("give exactly one of a CA file and a pinned server certificate");
  }
  if (options.cert_file.empty() != options.key_file.empty()) {
    return InvalidArgumentError("a client certificate needs its key, and a key its certificate");
  }
  std::unique_ptr<Client> client(new Client(options));
  auto tls = std::make_unique<TlsContext>();
  tls->ctx.reset(SSL_CTX_new(TLS_client_method()));
  if (!tls->ctx) return InternalError("SSL_CTX_new: " + OpenSslErrors());
  // Read whole TLS records, and whatever follows them, in one recv instead
  // of a 5-byte header read and then the body (TlsSocket checks
  // SSL_has_pending before it waits on the socket).
  SSL_CTX_set_read_ahead(tls->ctx.get(), 1);
  SSL_CTX* ctx = tls->ctx.get();
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
  if (!options.ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, options.ca_file.c_str(), nullptr) != 1) {
      return InvalidArgumentError("cannot load CA file " + options.ca_file + ": " +
                                  OpenSslErrors());
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  } else {
    ASSIGN_OR_RETURN(tls->pinned, LoadCertificate(options.pinned_server_cert_file));
  }
  if (!options.cert_file.empty()) {
    if (SSL_CTX_use_certificate_chain_file(ctx, options.cert_file.c_str()) != 1) {
      return InvalidArgumentError("cannot load client certificate " + options.cert_file + ": " +
                                  OpenSslErrors());
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, options.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
      // The file name only: the key itself never reaches a message.
      OpenSslErrors();
      return InvalidArgumentError("cannot load client key " + options.key_file);
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
      OpenSslErrors();
      return InvalidArgumentError("client key " + options.key_file +
                                  " does not match certificate " + options.cert_file);
    }
    // Present the certificates of cert_file as they are (the leaf, and any
    // intermediate CA the file holds after it). Otherwise OpenSSL builds a
    // chain from the CA file, which is here to check the server, and sends
    // it too: a chain verification on this side and one more certificate
    // for the server to parse in every full handshake, when that server
    // has the CA (it issued its own certificate) or, like vmcrypt kms,
    // admits clients by their leaf alone. vmcrypt kms spent a third of its
    // CPU parsing the two certificates of each vCenter-style session.
    SSL_CTX_set_mode(ctx, SSL_MODE_NO_AUTO_CHAIN);
  }
  client->tls_ = std::move(tls);
  return client;
}

bool Client::connected() const { return conn_ != nullptr; }

Result<std::unique_ptr<TlsSocket>> Client::OpenSocket() {
  const std::string name = options_.server_name.empty() ? options_.host : options_.server_name;
  return TlsSocket::Connect(tls_->ctx.get(), options_.host, options_.port, name, tls_->pinned.get(),
                            Clock::now() + options_.connect_timeout, tls_->session.get());
}

bool Client::resumed() const { return conn_ && SSL_session_reused(conn_->socket().ssl()) == 1; }

void Client::Close() {
  if (!conn_) return;
  if (options_.resume_sessions) {
    // Taken at the end: a TLS 1.3 server sends its ticket after the
    // handshake, so the session becomes resumable once a response was read.
    internal::SslSessionPtr session(SSL_get1_session(conn_->socket().ssl()));
    if (session && SSL_SESSION_is_resumable(session.get()) == 1) tls_->session = std::move(session);
  }
  conn_->socket().Shutdown();
  conn_.reset();
}

Result<ResponseMessage> Client::Send(RequestMessage request) {
  request.version = options_.version;
  for (RequestBatchItem& item : request.items) {
    if (!item.unique_batch_item_id) item.unique_batch_item_id = NextBatchId();
  }
  ASSIGN_OR_RETURN(ttlv::Item tree, EncodeRequest(request));
  ASSIGN_OR_RETURN(ttlv::Bytes wire, ttlv::Encode(tree));

  // Reuse the connection unless the server closed it while it was idle.
  if (conn_ && !conn_->socket().IsIdleAndOpen()) Close();
  if (!conn_) {
    ASSIGN_OR_RETURN(auto socket, OpenSocket());
    conn_ = std::make_unique<Connection>(std::move(socket));
  }
  const auto deadline = Clock::now() + options_.io_timeout;
  TlsSocket& sock = conn_->socket();
  const std::string peer = sock.peer();  // `sock` dies with Close()
  Status written = sock.WriteAll(wire, deadline);
  if (!written.ok()) {
    Close();
    return written;
  }
  ttlv::Bytes header(ttlv::kHeaderSize);
  Status read = sock.ReadExact(header, deadline);
  ttlv::Limits limits;
  limits.max_message_size = options_.max_response_size;
  Result<size_t> size = read.ok() ? ttlv::MessageSize(header, limits) : Result<size_t>(read);
  if (!size.ok()) {
    Close();
    return size.status().WithContext("response from " + peer);
  }
  ttlv::Bytes message(*size);
  std::copy(header.begin(), header.end(), message.begin());
  read = sock.ReadExact(std::span<uint8_t>(message).subspan(ttlv::kHeaderSize), deadline);
  if (!read.ok()) {
    Close();
    return read;
  }
  Result<ttlv::Item> response_tree = ttlv::Decode(message, limits);
  if (!response_tree.ok()) {
    Close();
    return response_tree.status().WithContext("malformed response from " + peer);
  }
  ASSIGN_OR_RETURN(ResponseMessage response, DecodeResponse(*response_tree));

  // Put the response items in request order, matched by Unique Batch Item ID
  // (KMIP 1.4 §6.4); a single unnumbered answer to a single request is
  // accepted as is (servers answer some errors without an ID).
  if (response.items.size() == 1 && request.items.size() == 1 &&
      !response.items[0].unique_batch_item_id) {
    return response;
  }
  std::vector<ResponseBatchItem> ordered;
  for (const RequestBatchItem& req : request.items) {
    auto it =
        std::find_if(response.items.begin(), response.items.end(), [&](const ResponseBatchItem& r) {
          return r.unique_batch_item_id == req.unique_batch_item_id;
        });
    if (it == response.items.end()) {
      return InvalidArgumentError("response from " + peer + " lacks an answer to a batch item");
    }
    ordered.push_back(std::move(*it));
  }
  response.items = std::move(ordered);
  return response;
}

Result<ttlv::Bytes> EncodeSingleRequest(Operation op, const ttlv::Item& payload,
                                        ProtocolVersion version) {
  RequestMessage request;
  request.version = version;
  request.items.push_back({op, std::nullopt, NextBatchId(), payload, std::nullopt});
  ASSIGN_OR_RETURN(ttlv::Item tree, EncodeRequest(request));
  return ttlv::Encode(tree);
}

Result<ttlv::Item> SingleResponsePayload(Operation op, ResponseMessage response) {
  if (response.items.size() != 1) {
    return InvalidArgumentError("expected one batch item in the response, got " +
                                std::to_string(response.items.size()));
  }
  ResponseBatchItem& item = response.items[0];
  if (!item.ok()) {
    Status s = item.ToStatus();
    std::string_view name = OperationName(op);
    return s.WithContext(name.empty() ? "KMIP operation" : std::string(name));
  }
  if (item.operation && *item.operation != op) {
    return InvalidArgumentError("response names operation " +
                                std::to_string(static_cast<uint32_t>(*item.operation)) +
                                " for a request of " + std::to_string(static_cast<uint32_t>(op)));
  }
  if (!item.payload) return ttlv::Item::Structure(ttlv::tag::kResponsePayload);
  return std::move(*item.payload);
}

Result<ttlv::Item> Client::Call(Operation op, const ttlv::Item& request_payload) {
  RequestMessage request;
  request.items.push_back({op, std::nullopt, std::nullopt, request_payload, std::nullopt});
  ASSIGN_OR_RETURN(ResponseMessage response, Send(std::move(request)));
  return SingleResponsePayload(op, std::move(response));
}

namespace {
template <typename Resp, typename Req>
Result<Resp> Typed(Client& c, Operation op, const Req& req) {
  const ProtocolVersion v = c.options().version;
  ASSIGN_OR_RETURN(ttlv::Item payload, req.Encode(v));
  ASSIGN_OR_RETURN(ttlv::Item answer, c.Call(op, payload));
  return Resp::Decode(answer, v);
}
}  // namespace

Result<DiscoverVersionsResponse> Client::DiscoverVersions(const std::vector<ProtocolVersion>& v) {
  return Typed<DiscoverVersionsResponse>(*this, Operation::kDiscoverVersions,
                                         DiscoverVersionsRequest{v});
}
Result<QueryResponse> Client::Query(const std::vector<uint32_t>& functions) {
  QueryRequest request;
  request.functions = functions;
  return Typed<QueryResponse>(*this, Operation::kQuery, request);
}
Result<CreateResponse> Client::Create(const CreateRequest& r) {
  return Typed<CreateResponse>(*this, Operation::kCreate, r);
}
Result<RegisterResponse> Client::Register(const RegisterRequest& r) {
  return Typed<RegisterResponse>(*this, Operation::kRegister, r);
}
Result<GetResponse> Client::Get(const GetRequest& r) {
  return Typed<GetResponse>(*this, Operation::kGet, r);
}
Result<GetAttributesResponse> Client::GetAttributes(const GetAttributesRequest& r) {
  return Typed<GetAttributesResponse>(*this, Operation::kGetAttributes, r);
}
Result<GetAttributeListResponse> Client::GetAttributeList(const std::string& uid) {
  return Typed<GetAttributeListResponse>(*this, Operation::kGetAttributeList,
                                         GetAttributeListRequest{uid});
}
Result<AttributeChangeResponse> Client::AddAttribute(const AddAttributeRequest& r) {
  return Typed<AttributeChangeResponse>(*this, Operation::kAddAttribute, r);
}
Result<LocateResponse> Client::Locate(const LocateRequest& r) {
  return Typed<LocateResponse>(*this, Operation::kLocate, r);
}
Status Client::Activate(const std::string& uid) {
  return Typed<UidResponse>(*this, Operation::kActivate, UidRequest{uid}).status();
}
Status Client::Revoke(const RevokeRequest& r) {
  return Typed<UidResponse>(*this, Operation::kRevoke, r).status();
}
Status Client::Destroy(const std::string& uid) {
  return Typed<UidResponse>(*this, Operation::kDestroy, UidRequest{uid}).status();
}

}  // namespace vmcrypt::kmip
