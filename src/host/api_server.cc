#include "vmcrypt/host/api_server.h"

#include <httplib.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <thread>

#include "src/common/json_reply.h"
#include "src/host/agent_json.h"
#include "vmcrypt/base/encoding.h"
#include "vmcrypt/base/secret_bytes.h"
#include "vmcrypt/crypto/openssl.h"

namespace vmcrypt::host {
namespace {

using json = nlohmann::json;

std::string Subject(const X509* cert) {
  char buf[512];
  X509_NAME_oneline(X509_get_subject_name(cert), buf, sizeof(buf));
  return buf;
}

using internal::Fail;
using internal::Reply;

// {"provider": P, "key_id": K} from a body, or an error. With
// `new_native_key`, "key_id" may be left out: an empty key id, which asks the
// agent for a new key of native provider P (HostAgent::ResolveKey).
Result<KeyRef> KeyOf(const json& body, bool new_native_key = false) {
  const bool has_id = body.contains("key_id") && body["key_id"].is_string();
  const bool id_ok = has_id || (new_native_key && !body.contains("key_id"));
  if (!body.contains("provider") || !body["provider"].is_string() || !id_ok) {
    return InvalidArgumentError("give the key as \"provider\" and \"key_id\" (strings)");
  }
  return KeyRef{body["provider"].get<std::string>(),
                has_id ? body["key_id"].get<std::string>() : std::string()};
}

void ReplyVm(httplib::Response& res, const Result<VmInfo>& vm, int status = 200) {
  if (!vm.ok()) return Fail(res, vm.status());
  Reply(res, status, ToJson(*vm));
}

// The request body as a JSON object, or a 400 reply.
std::optional<json> Body(const httplib::Request& req, httplib::Response& res) {
  json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) {
    Fail(res, InvalidArgumentError("the request body must be a JSON object"));
    return std::nullopt;
  }
  return body;
}

}  // namespace

struct HostApiServer::Impl {
  HostAgent* agent = nullptr;
  Logger log;
  std::unique_ptr<httplib::SSLServer> http;
  std::thread thread;
  uint16_t port = 0;
  bool stopped = false;

  // Admits a chain to the configured CA, or a leaf pinned by fingerprint.
  static int Verify(int preverify_ok, X509_STORE_CTX* store_ctx);
  void Routes();
};

namespace {
// The verify callback finds its server through the SSL_CTX's app data.
HostApiServer::Impl* ImplOf(X509_STORE_CTX* store_ctx) {
  SSL* ssl = static_cast<SSL*>(
      X509_STORE_CTX_get_ex_data(store_ctx, SSL_get_ex_data_X509_STORE_CTX_idx()));
  return static_cast<HostApiServer::Impl*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
}
}  // namespace

int HostApiServer::Impl::Verify(int preverify_ok, X509_STORE_CTX* store_ctx) {
  if (X509_STORE_CTX_get_error_depth(store_ctx) > 0) return 1;  // the leaf decides
  X509* cert = X509_STORE_CTX_get_current_cert(store_ctx);
  Impl* self = ImplOf(store_ctx);
  if (cert == nullptr || self == nullptr) return 0;
  const std::string fp = crypto::Sha256Fingerprint(cert);
  const auto& pinned = self->agent->config().trusted_fingerprints;
  if (preverify_ok == 1 && !self->agent->config().client_ca_file.empty()) return 1;
  if (std::find(pinned.begin(), pinned.end(), fp) != pinned.end()) {
    X509_STORE_CTX_set_error(store_ctx, X509_V_OK);
    return 1;
  }
  self->log("refused control-plane client: " +
            std::string(X509_verify_cert_error_string(X509_STORE_CTX_get_error(store_ctx))) +
            " (subject \"" + Subject(cert) + "\", sha256 " + fp + ")");
  return 0;
}

void HostApiServer::Impl::Routes() {
  HostAgent& a = *agent;
  http->Get("/v1/status", [&a](const httplib::Request&, httplib::Response& res) {
    Reply(res, 200, StatusJson(a));
  });
  // Host encryption mode: the host key by reference, never bytes.
  http->Get("/v1/encryption-mode", [&a](const httplib::Request&, httplib::Response& res) {
    Reply(res, 200, ToJson(a.encryption_mode()));
  });
  http->Put("/v1/encryption-mode", [&a](const httplib::Request& req, httplib::Response& res) {
    auto body = Body(req, res);
    if (!body) return;
    auto key = KeyOf(*body);
    if (!key.ok()) return Fail(res, key.status());
    auto mode = a.EnableEncryptionMode(*key);
    if (!mode.ok()) return Fail(res, mode.status());
    Reply(res, 200, ToJson(*mode));
  });
  http->Delete("/v1/encryption-mode", [&a](const httplib::Request&, httplib::Response& res) {
    Fail(res, a.DisableEncryptionMode());
  });
  http->Post("/v1/support-bundle", [&a](const httplib::Request&, httplib::Response& res) {
    auto bundle = a.WriteSupportBundle();
    if (!bundle.ok()) return Fail(res, bundle.status());
    Reply(res, 200, {{"file", bundle->file}, {"size", bundle->size}});
  });
  // Native key providers' KDKs: names and TPM requirement only, never bytes.
  http->Get("/v1/kdks", [&a](const httplib::Request&, httplib::Response& res) {
    json kdks = json::array();
    for (const KdkInfo& k : a.ListKdks()) {
      kdks.push_back({{"provider", k.provider}, {"tpm_required", k.tpm_required}});
    }
    Reply(res, 200, {{"kdks", kdks}});
  });
  // PUT a KDK: {"kdk": "<base64 of 32 bytes>", "tpm_required": bool}.
  http->Put(R"(/v1/kdks/([^/]+))", [&a](const httplib::Request& req, httplib::Response& res) {
    auto body = Body(req, res);
    if (!body) return;
    const std::string provider = req.matches[1];
    if (!(*body)["kdk"].is_string()) {
      return Fail(res, InvalidArgumentError("\"kdk\" (base64) is missing"));
    }
    const json tpm = body->value("tpm_required", json(false));
    if (!tpm.is_boolean()) {
      return Fail(res, InvalidArgumentError("\"tpm_required\" is true or false"));
    }
    const bool tpm_required = tpm.get<bool>();
    std::string& text = (*body)["kdk"].get_ref<std::string&>();
    auto bytes = Base64Decode(text);
    internal::SecureWipe(text.data(), text.size());
    if (!bytes.ok()) return Fail(res, InvalidArgumentError("\"kdk\" is not base64"));
    Status s = a.PutKdk(provider, *bytes, tpm_required);
    internal::SecureWipe(bytes->data(), bytes->size());
    if (!s.ok()) return Fail(res, s);
    Reply(res, 200, {{"provider", provider}, {"tpm_required", tpm_required}});
  });
  http->Delete(R"(/v1/kdks/([^/]+))", [&a](const httplib::Request& req, httplib::Response& res) {
    const std::string provider = req.matches[1];
    Status s = a.RemoveKdk(provider);
    if (!s.ok()) return Fail(res, s);
    Reply(res, 200, {{"deleted", provider}});
  });
  http->Get("/v1/keys", [&a](const httplib::Request&, httplib::Response& res) {
    json keys = json::array();
    for (const KeyRef& k : a.keys().List()) {
      keys.push_back({{"provider", k.provider}, {"key_id", k.key_id}});
    }
    Reply(res, 200, {{"keys", keys}});
  });
  // PUT a key: {"key": "<base64 of the raw key bytes>"}.
  http->Put(
      R"(/v1/keys/([^/]+)/([^/]+))", [&a](const httplib::Request& req, httplib::Response& res) {
        auto body = Body(req, res);
        if (!body) return;
        const KeyRef ref{req.matches[1], req.matches[2]};
        if (!(*body)["key"].is_string()) {
          return Fail(res, InvalidArgumentError("\"key\" (base64) is missing"));
        }
        auto bytes = Base64Decode((*body)["key"].get_ref<const std::string&>());
        if (!bytes.ok()) return Fail(res, InvalidArgumentError("\"key\" is not base64"));
        Status s = bytes->size() == 32 ? a.keys().Put(ref, *bytes)
                                       : InvalidArgumentError("a KEK is 32 bytes (AES-256), not " +
                                                              std::to_string(bytes->size()));
        internal::SecureWipe(bytes->data(), bytes->size());
        std::string& text = (*body)["key"].get_ref<std::string&>();
        internal::SecureWipe(text.data(), text.size());
        if (!s.ok()) return Fail(res, s);
        Reply(res, 200, {{"provider", ref.provider}, {"key_id", ref.key_id}});
      });
  http->Delete(R"(/v1/keys/([^/]+)/([^/]+))",
               [&a](const httplib::Request& req, httplib::Response& res) {
                 const KeyRef ref{req.matches[1], req.matches[2]};
                 Status s = a.keys().Remove(ref);
                 if (!s.ok()) return Fail(res, s);
                 Reply(res, 200, {{"provider", ref.provider}, {"key_id", ref.key_id}});
               });
  http->Get("/v1/vms", [&a](const httplib::Request&, httplib::Response& res) {
    auto vms = a.ListVms();
    if (!vms.ok()) return Fail(res, vms.status());
    json out = json::array();
    for (const VmInfo& vm : *vms) out.push_back(ToJson(vm));
    Reply(res, 200, {{"vms", out}});
  });
  // {"name", "disks": [bytes...], "encrypted", "provider", "key_id", "vtpm"}
  http->Post("/v1/vms", [&a](const httplib::Request& req, httplib::Response& res) {
    auto body = Body(req, res);
    if (!body) return;
    VmSpec spec;
    if (!(*body)["name"].is_string() || !(*body)["disks"].is_array()) {
      return Fail(res, InvalidArgumentError("give \"name\" and \"disks\" (sizes in bytes)"));
    }
    spec.name = (*body)["name"].get<std::string>();
    for (const json& d : (*body)["disks"]) {
      if (!d.is_number_unsigned()) {
        return Fail(res, InvalidArgumentError("disk sizes are numbers of bytes"));
      }
      spec.disk_sizes.push_back(d.get<uint64_t>());
    }
    spec.encrypted = body->value("encrypted", false);
    spec.vtpm = body->value("vtpm", false);
    if (body->contains("provider")) {
      auto key = KeyOf(*body, /*new_native_key=*/true);
      if (!key.ok()) return Fail(res, key.status());
      spec.key = *key;
    }
    ReplyVm(res, a.CreateVm(spec), 201);
  });
  http->Get(R"(/v1/vms/([^/]+))", [&a](const httplib::Request& req, httplib::Response& res) {
    ReplyVm(res, a.GetVm(req.matches[1]));
  });
  http->Delete(R"(/v1/vms/([^/]+))", [&a](const httplib::Request& req, httplib::Response& res) {
    Status s = a.DeleteVm(req.matches[1]);
    if (!s.ok()) return Fail(res, s);
    Reply(res, 200, {{"deleted", std::string(req.matches[1])}});
  });
  http->Post(
      R"(/v1/vms/([^/]+)/(encrypt|decrypt|open|close|rekey))",
      [&a](const httplib::Request& req, httplib::Response& res) {
        const std::string name = req.matches[1];
        const std::string op = req.matches[2];
        json body = req.body.empty() ? json::object() : json::parse(req.body, nullptr, false);
        if (body.is_discarded() || !body.is_object()) {
          return Fail(res, InvalidArgumentError("the request body must be a JSON object"));
        }
        if (op == "encrypt") {
          auto key = KeyOf(body, /*new_native_key=*/true);
          if (!key.ok()) return Fail(res, key.status());
          return ReplyVm(res, a.EncryptVm(name, *key));
        }
        if (op == "decrypt") return ReplyVm(res, a.DecryptVm(name));
        if (op == "open") return ReplyVm(res, a.OpenVm(name));
        if (op == "close") {
          Status s = a.CloseVm(name);
          if (!s.ok()) return Fail(res, s);
          return ReplyVm(res, a.GetVm(name));
        }
        const std::string mode = body.value("mode", "");
        if (mode == "deep") return ReplyVm(res, a.DeepRekey(name));
        if (mode != "shallow") {
          return Fail(res, InvalidArgumentError("rekey \"mode\" is \"shallow\" or \"deep\""));
        }
        auto key = KeyOf(body, /*new_native_key=*/true);
        if (!key.ok()) return Fail(res, key.status());
        ReplyVm(res, a.ShallowRekey(name, *key));
      });
  http->Post(R"(/v1/vms/([^/]+)/disks/([^/]+)/(encrypt|decrypt))",
             [&a](const httplib::Request& req, httplib::Response& res) {
               const std::string op = req.matches[3];
               ReplyVm(res, op == "encrypt" ? a.EncryptDisk(req.matches[1], req.matches[2])
                                            : a.DecryptDisk(req.matches[1], req.matches[2]));
             });
  http->set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (res.status == 404 && res.body.empty()) {
      Fail(res, NotFoundError("no such API route: " + req.method + " " + req.path));
    }
  });
  http->set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        Fail(res, InternalError("the request failed inside the agent"));
      });
  http->set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    std::string who = "?";
    if (req.ssl != nullptr) {
      if (X509* cert = SSL_get1_peer_certificate(req.ssl)) {
        who = Subject(cert);
        X509_free(cert);
      }
    }
    log(req.method + " " + req.path + " -> " + std::to_string(res.status) + " (" + who + ")");
  });
}

Result<std::unique_ptr<HostApiServer>> HostApiServer::Start(HostAgent* agent, Logger log) {
  auto impl = std::make_unique<Impl>();
  impl->agent = agent;
  impl->log = log ? std::move(log) : [](const std::string&) {};
  const HostConfig& c = agent->config();
  std::string setup_error;
  Impl* raw = impl.get();
  impl->http = std::make_unique<httplib::SSLServer>([&](SSL_CTX& ctx) {
    SSL_CTX_set_app_data(&ctx, raw);
    SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION);
    if (SSL_CTX_use_certificate_chain_file(&ctx, c.cert_file.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(&ctx, c.key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(&ctx) != 1) {
      setup_error = "cannot load the agent's certificate " + c.cert_file + " and key " + c.key_file;
      return false;
    }
    if (!c.client_ca_file.empty() &&
        SSL_CTX_load_verify_locations(&ctx, c.client_ca_file.c_str(), nullptr) != 1) {
      setup_error = "cannot load the control-plane CA " + c.client_ca_file;
      return false;
    }
    SSL_CTX_set_verify(&ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, &Impl::Verify);
    return true;
  });
  if (!impl->http->is_valid()) {
    return InvalidArgumentError(setup_error.empty() ? "TLS set-up failed" : setup_error);
  }
  impl->http->set_payload_max_length(1 << 20);
  impl->http->set_read_timeout(30, 0);
  impl->Routes();
  ASSIGN_OR_RETURN(impl->port,
                   vmcrypt::internal::BindAndServe(*impl->http, c.listen, &impl->thread));
  const std::string host = c.listen.substr(0, c.listen.rfind(':'));
  const uint16_t port = impl->port;
  impl->log("host agent " + c.name + " listening on " + host + ":" + std::to_string(port) +
            " (HTTPS, client certificates required)");
  return std::unique_ptr<HostApiServer>(new HostApiServer(std::move(impl)));
}

HostApiServer::HostApiServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HostApiServer::~HostApiServer() { Shutdown(); }
uint16_t HostApiServer::port() const { return impl_->port; }

void HostApiServer::Shutdown() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  impl_->http->stop();
  if (impl_->thread.joinable()) impl_->thread.join();
  impl_->log("host agent stopped");
}

}  // namespace vmcrypt::host
