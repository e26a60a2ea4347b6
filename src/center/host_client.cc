#include "vmcrypt/center/host_client.h"

#include <fcntl.h>
#include <httplib.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>

#include "vmcrypt/base/encoding.h"
#include "vmcrypt/crypto/openssl.h"
#include "vmcrypt/kms/pki.h"

namespace vmcrypt::center {
namespace {

// libssl handles (crypto/openssl.h covers libcrypto only).
using SslCtxPtr = std::unique_ptr<SSL_CTX, crypto::OpenSslDeleter<SSL_CTX_free>>;
using SslPtr = std::unique_ptr<SSL, crypto::OpenSslDeleter<SSL_free>>;

// A socket descriptor, closed when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

struct HostPort {
  std::string host;
  int port = 0;
};

// "HOST:PORT" or "[V6]:PORT".
Result<HostPort> ParseAddress(const std::string& address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size()) {
    return InvalidArgumentError("host address \"" + address + "\" is not HOST:PORT");
  }
  HostPort out;
  out.host = address.substr(0, colon);
  if (out.host.size() > 2 && out.host.front() == '[' && out.host.back() == ']') {
    out.host = out.host.substr(1, out.host.size() - 2);
  }
  const std::string port = address.substr(colon + 1);
  if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(port) < 1 || std::stoi(port) > 65535) {
    return InvalidArgumentError("host address \"" + address + "\" has no valid port (1-65535)");
  }
  out.port = std::stoi(port);
  return out;
}

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// Each path segment goes into a URL path the host matches by "[^/]+".
Status CheckSegment(const char* what, const std::string& s) {
  if (s.empty() || s.find_first_of("/?#%") != std::string::npos) {
    return InvalidArgumentError(std::string(what) + " \"" + s +
                                "\" must be non-empty and without '/', '?', '#' or '%'");
  }
  return OkStatus();
}

// The host's error code: the body's "code" ("NOT_FOUND", ...) when it names
// one, else from the HTTP status (docs/host.md "The API").
StatusCode CodeOf(int http_status, const Json& body) {
  if (body.is_object() && body.contains("code") && body["code"].is_string()) {
    const std::string name = body["code"].get<std::string>();
    for (int c = static_cast<int>(StatusCode::kInvalidArgument);
         c <= static_cast<int>(StatusCode::kCancelled); ++c) {
      if (StatusCodeName(static_cast<StatusCode>(c)) == name) return static_cast<StatusCode>(c);
    }
  }
  switch (http_status) {
    case 400:
      return StatusCode::kInvalidArgument;
    case 401:
      return StatusCode::kUnauthenticated;
    case 403:
      return StatusCode::kPermissionDenied;
    case 404:
      return StatusCode::kNotFound;
    case 409:
      return StatusCode::kFailedPrecondition;
    case 501:
      return StatusCode::kUnimplemented;
    case 503:
      return StatusCode::kUnavailable;
    case 504:
      return StatusCode::kDeadlineExceeded;
    default:
      return StatusCode::kInternal;
  }
}

std::string Reason(httplib::Error e) {
  switch (e) {
    case httplib::Error::Connection:
      return "cannot connect";
    case httplib::Error::ConnectionTimeout:
      return "timed out connecting";
    case httplib::Error::SSLConnection:
      return "TLS handshake failed (does the host trust center's client certificate?)";
    case httplib::Error::Read:
      // With TLS 1.3 a host that refuses our client certificate says so
      // only after the handshake, so this is where a refusal shows.
      return "no answer (timed out, or the host closed the connection: is center's client "
             "certificate trusted by the host?)";
    case httplib::Error::Write:
      return "cannot send the request";
    default:
      return httplib::to_string(e);
  }
}

// The pin check of one connection: OpenSSL's whole chain verification is
// replaced (SSL_CTX_set_cert_verify_callback) by comparing the leaf's
// SHA-256 fingerprint with the pinned one; the chain and names are not
// checked, as with vCenter's host thumbprints.
struct PinCheck {
  std::string expected;   // upper case
  std::string presented;  // what the host showed, once seen
};

int VerifyPin(X509_STORE_CTX* store_ctx, void* arg) {
  auto* pin = static_cast<PinCheck*>(arg);
  X509* leaf = X509_STORE_CTX_get0_cert(store_ctx);
  if (leaf == nullptr) return 0;
  pin->presented = crypto::Sha256Fingerprint(leaf);
  if (pin->presented == pin->expected) return 1;
  X509_STORE_CTX_set_error(store_ctx, X509_V_ERR_CERT_REJECTED);
  return 0;
}

// Keeps the leaf a server presents, accepting anything (FetchServerCertificate).
int KeepLeaf(X509_STORE_CTX* store_ctx, void* arg) {
  auto* kept = static_cast<crypto::X509Ptr*>(arg);
  X509* leaf = X509_STORE_CTX_get0_cert(store_ctx);
  if (leaf != nullptr && X509_up_ref(leaf) == 1) kept->reset(leaf);
  return 1;
}

// A TCP connection to `hp` within `timeout` (then blocking, with send and
// receive timeouts of `timeout`).
Result<int> ConnectTcp(const HostPort& hp, std::chrono::milliseconds timeout,
                       const std::string& address) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int rc = getaddrinfo(hp.host.c_str(), std::to_string(hp.port).c_str(), &hints, &found);
  if (rc != 0) {
    return UnavailableError(address + " unreachable: cannot resolve " + hp.host + ": " +
                            gai_strerror(rc));
  }
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> list(found, freeaddrinfo);
  std::string last = "no address";
  for (addrinfo* ai = list.get(); ai != nullptr; ai = ai->ai_next) {
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
      last = std::strerror(errno);
      continue;
    }
    Fd owned(fd);
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
      last = std::strerror(errno);
      continue;
    }
    pollfd p{fd, POLLOUT, 0};
    const int ready = poll(&p, 1, static_cast<int>(timeout.count()));
    int err = 0;
    socklen_t len = sizeof(err);
    if (ready == 0) {
      last = "timed out connecting";
      continue;
    }
    if (ready < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
      last = std::strerror(ready < 0 ? errno : err);
      continue;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    timeval tv{static_cast<time_t>(timeout.count() / 1000),
               static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    return owned.release();
  }
  return UnavailableError(address + " unreachable: " + last);
}

}  // namespace

HostClient::HostClient(HostEndpoint endpoint, ClientIdentity identity,
                       std::chrono::milliseconds timeout)
    : endpoint_(std::move(endpoint)), identity_(std::move(identity)), timeout_(timeout) {}

HostClient::~HostClient() = default;

Result<std::unique_ptr<HostClient>> HostClient::Create(HostEndpoint endpoint,
                                                       ClientIdentity identity,
                                                       std::chrono::milliseconds timeout) {
  RETURN_IF_ERROR(ParseAddress(endpoint.address).status());
  endpoint.fingerprint = Upper(endpoint.fingerprint);
  if (endpoint.fingerprint.size() != 32 * 3 - 1) {
    return InvalidArgumentError("host " + endpoint.name +
                                ": the pinned certificate fingerprint must be SHA-256, "
                                "\"AB:CD:...\" (32 pairs)");
  }
  if (timeout.count() <= 0) return InvalidArgumentError("a host call timeout must be positive");
  // Load the identity once now, so a bad file is named here rather than
  // surfacing as a failed connection later.
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) return InternalError("cannot make a TLS context: " + crypto::OpenSslErrorString());
  if (SSL_CTX_use_certificate_file(ctx.get(), identity.cert_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx.get(), identity.key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx.get()) != 1) {
    ERR_clear_error();
    return InvalidArgumentError("cannot load center's client certificate " + identity.cert_file +
                                " and key " + identity.key_file +
                                " (PEM files that belong together)");
  }
  return std::unique_ptr<HostClient>(
      new HostClient(std::move(endpoint), std::move(identity), timeout));
}

Result<Json> HostClient::Call(const std::string& method, const std::string& path,
                              const Json* body) {
  ASSIGN_OR_RETURN(HostPort hp, ParseAddress(endpoint_.address));
  const std::string who = "host " + endpoint_.name + " (" + endpoint_.address + ")";
  PinCheck pin{endpoint_.fingerprint, ""};  // outlives the client that points at it
  httplib::SSLClient client(hp.host, hp.port, identity_.cert_file, identity_.key_file);
  if (!client.is_valid()) {
    return FailedPreconditionError("cannot load center's client certificate " +
                                   identity_.cert_file + " and key " + identity_.key_file);
  }
  SSL_CTX* ctx = client.ssl_context();
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  SSL_CTX_set_cert_verify_callback(ctx, &VerifyPin, &pin);
  client.enable_server_certificate_verification(false);  // VerifyPin decides
  client.set_connection_timeout(timeout_);
  client.set_read_timeout(timeout_);
  client.set_write_timeout(timeout_);
  client.set_keep_alive(false);

  httplib::Request req;
  req.method = method;
  req.path = path;
  if (body != nullptr) {
    req.body = body->dump();
    req.set_header("Content-Type", "application/json");
  }
  httplib::Response res;
  httplib::Error error = httplib::Error::Success;
  const bool sent = client.send(req, res, error);
  // The body may hold key bytes (PUT a key or a KDK).
  internal::SecureWipe(req.body.data(), req.body.size());
  if (!pin.presented.empty() && pin.presented != pin.expected) {
    return PermissionDeniedError(who + " presented a certificate with SHA-256 fingerprint " +
                                 pin.presented + ", expected the pinned fingerprint " +
                                 pin.expected);
  }
  if (!sent) return UnavailableError(who + " unreachable: " + Reason(error));

  Json answer = res.body.empty() ? Json::object() : Json::parse(res.body, nullptr, false);
  if (res.status < 200 || res.status > 299) {
    const bool has_message =
        answer.is_object() && answer.contains("error") && answer["error"].is_string();
    return Status(
        CodeOf(res.status, answer),
        "host " + endpoint_.name + ": " +
            (has_message ? answer["error"].get<std::string>()
                         : "HTTP " + std::to_string(res.status) + " for " + method + " " + path));
  }
  if (answer.is_discarded()) {
    return InternalError("host " + endpoint_.name + ": the answer to " + method + " " + path +
                         " is not JSON");
  }
  return answer;
}

Status HostClient::PutKey(const std::string& provider, const std::string& key_id,
                          const SecretBytes& key) {
  RETURN_IF_ERROR(CheckSegment("provider", provider));
  RETURN_IF_ERROR(CheckSegment("key id", key_id));
  Json body = {{"key", Base64Encode(key.span())}};
  Result<Json> r = Call("PUT", "/v1/keys/" + provider + "/" + key_id, &body);
  std::string& text = body["key"].get_ref<std::string&>();
  internal::SecureWipe(text.data(), text.size());
  return r.status();
}

Status HostClient::DeleteKey(const std::string& provider, const std::string& key_id) {
  RETURN_IF_ERROR(CheckSegment("provider", provider));
  RETURN_IF_ERROR(CheckSegment("key id", key_id));
  return Call("DELETE", "/v1/keys/" + provider + "/" + key_id).status();
}

Status HostClient::PutKdk(const std::string& provider, const SecretBytes& kdk, bool tpm_required) {
  RETURN_IF_ERROR(CheckSegment("provider", provider));
  Json body = {{"kdk", Base64Encode(kdk.span())}, {"tpm_required", tpm_required}};
  Result<Json> r = Call("PUT", "/v1/kdks/" + provider, &body);
  std::string& text = body["kdk"].get_ref<std::string&>();
  internal::SecureWipe(text.data(), text.size());
  return r.status();
}

Status HostClient::DeleteKdk(const std::string& provider) {
  RETURN_IF_ERROR(CheckSegment("provider", provider));
  return Call("DELETE", "/v1/kdks/" + provider).status();
}

Result<Json> HostClient::GetStatus() { return Call("GET", "/v1/status"); }

Result<std::string> FetchServerCertificate(const std::string& address,
                                           std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(HostPort hp, ParseAddress(address));
  ASSIGN_OR_RETURN(int raw_fd, ConnectTcp(hp, timeout, address));
  Fd fd(raw_fd);
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) return InternalError("cannot make a TLS context: " + crypto::OpenSslErrorString());
  crypto::X509Ptr leaf;
  // Nothing is verified: the caller shows the fingerprint and pins it.
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  SSL_CTX_set_cert_verify_callback(ctx.get(), &KeepLeaf, &leaf);
  SslPtr ssl(SSL_new(ctx.get()));
  if (!ssl || SSL_set_fd(ssl.get(), fd.get()) != 1) {
    return InternalError("cannot set up TLS: " + crypto::OpenSslErrorString());
  }
  if (!hp.host.empty()) SSL_set_tlsext_host_name(ssl.get(), hp.host.c_str());
  // A host that wants a client certificate may end the handshake once it
  // sees none; its own certificate has arrived by then (KeepLeaf).
  const bool connected = SSL_connect(ssl.get()) == 1;
  const std::string detail = connected ? "" : crypto::OpenSslErrorString();
  if (connected) SSL_shutdown(ssl.get());
  if (!leaf) return UnavailableError(address + " unreachable: TLS handshake failed: " + detail);
  crypto::BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), leaf.get()) != 1) {
    return InternalError("cannot encode the certificate: " + crypto::OpenSslErrorString());
  }
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

Result<std::string> CertificateFingerprint(const std::string& cert_pem) {
  ASSIGN_OR_RETURN(kms::CertificateInfo info, kms::DescribeCertificate(cert_pem));
  return info.sha256_fingerprint;
}

}  // namespace vmcrypt::center
