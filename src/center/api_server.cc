#include "vmcrypt/center/api_server.h"

#include <httplib.h>
#include <openssl/ssl.h>

#include <thread>

#include "src/common/json_reply.h"

namespace vmcrypt::center {
namespace {

using internal::Fail;
using internal::Reply;

// A task-returning call answers 202 Accepted.
bool IsTask(const Json& j) { return j.is_object() && j.contains("state") && j.contains("entity"); }

}  // namespace

struct CenterApiServer::Impl {
  Center* center = nullptr;
  Logger log;
  std::unique_ptr<httplib::SSLServer> http;
  std::thread thread;
  uint16_t port = 0;
  bool stopped = false;

  using Handler =
      std::function<Result<Json>(const Principal&, const httplib::Request&, const Json& body)>;
  // Authenticates, parses the body, runs `h`, replies.
  httplib::Server::Handler Wrap(Handler h) {
    return [this, h](const httplib::Request& req, httplib::Response& res) {
      std::string auth = req.get_header_value("Authorization");
      std::string token;
      if (auth.rfind("Bearer ", 0) == 0) token = auth.substr(7);
      Result<Principal> who = center->auth().Authenticate(token);
      if (!who.ok()) {
        res.set_header("WWW-Authenticate", "Bearer realm=\"vmcrypt\"");
        return Fail(res, who.status());
      }
      res.set_header("X-Vmcrypt-User", who->user);
      Json body = Json::object();
      if (!req.body.empty()) {
        body = Json::parse(req.body, nullptr, /*allow_exceptions=*/false);
        if (body.is_discarded() || !body.is_object()) {
          return Fail(res, InvalidArgumentError("the request body must be a JSON object"));
        }
      }
      Result<Json> out = RunHandler(h, *who, req, body);
      if (!out.ok()) return Fail(res, out.status());
      Reply(res, IsTask(*out) && req.method != "GET" ? 202 : 200, *out);
    };
  }
  void Routes();

  // Runs `h`. A field of the body with the wrong JSON type ({"vtpm": "yes"})
  // makes nlohmann's typed reads throw type_error: that is the client's
  // mistake, answered 400 with what was expected, not a 500.
  static Result<Json> RunHandler(const Handler& h, const Principal& who,
                                 const httplib::Request& req, const Json& body) {
    try {
      return h(who, req, body);
    } catch (const Json::type_error& e) {
      std::string what = e.what();  // "[json.exception.type_error.302] type must be ..."
      if (const size_t end = what.find("] "); end != std::string::npos) what.erase(0, end + 2);
      return InvalidArgumentError("a field of the request body has the wrong type: " + what);
    }
  }
};

void CenterApiServer::Impl::Routes() {
  Center& c = *center;
  using R = const httplib::Request&;
  using P = const Principal&;
  using B = const Json&;
  http->Get("/api/v1/about", Wrap([&c](P p, R, B) { return c.About(p); }));
  http->Get("/api/v1/users", Wrap([&c](P p, R, B) { return c.ListUsers(p); }));
  http->Post("/api/v1/users", Wrap([&c](P p, R, B b) { return c.AddUser(p, b); }));
  http->Get("/api/v1/roles", Wrap([&c](P p, R, B) { return c.ListRoles(p); }));
  http->Post("/api/v1/roles", Wrap([&c](P p, R, B b) { return c.AddRole(p, b); }));

  http->Get("/api/v1/providers", Wrap([&c](P p, R, B) { return c.ListProviders(p); }));
  http->Post("/api/v1/providers", Wrap([&c](P p, R, B b) { return c.AddProvider(p, b); }));
  http->Post("/api/v1/providers/restore",
             Wrap([&c](P p, R, B b) { return c.RestoreProvider(p, b); }));
  http->Get(R"(/api/v1/providers/([^/]+))",
            Wrap([&c](P p, R r, B) { return c.GetProvider(p, r.matches[1]); }));
  http->Delete(R"(/api/v1/providers/([^/]+))",
               Wrap([&c](P p, R r, B) { return c.DeleteProvider(p, r.matches[1]); }));
  http->Post(R"(/api/v1/providers/([^/]+)/(trust|default|export))",
             Wrap([&c](P p, R r, B b) -> Result<Json> {
               std::string op = r.matches[2];
               if (op == "trust") return c.TrustProvider(p, r.matches[1], b);
               if (op == "default") return c.SetDefaultProvider(p, r.matches[1], b);
               return c.ExportProvider(p, r.matches[1], b);
             }));

  http->Get("/api/v1/clusters", Wrap([&c](P p, R, B) { return c.ListClusters(p); }));
  http->Post("/api/v1/clusters", Wrap([&c](P p, R, B b) { return c.AddCluster(p, b); }));
  http->Delete(R"(/api/v1/clusters/([^/]+))",
               Wrap([&c](P p, R r, B) { return c.DeleteCluster(p, r.matches[1]); }));
  http->Get("/api/v1/hosts", Wrap([&c](P p, R, B) { return c.ListHosts(p); }));
  http->Post("/api/v1/hosts", Wrap([&c](P p, R, B b) { return c.AddHost(p, b); }));
  http->Get(R"(/api/v1/hosts/([^/]+))",
            Wrap([&c](P p, R r, B) { return c.GetHost(p, r.matches[1]); }));
  http->Delete(R"(/api/v1/hosts/([^/]+))",
               Wrap([&c](P p, R r, B) { return c.RemoveHost(p, r.matches[1]); }));
  http->Post(R"(/api/v1/hosts/([^/]+)/encryption)",
             Wrap([&c](P p, R r, B b) { return c.EnableHostEncryption(p, r.matches[1], b); }));
  http->Get("/api/v1/policies", Wrap([&c](P p, R, B) { return c.ListPolicies(p); }));

  http->Get("/api/v1/vms", Wrap([&c](P p, R, B) { return c.ListVms(p); }));
  http->Post("/api/v1/vms", Wrap([&c](P p, R, B b) { return c.CreateVm(p, b); }));
  http->Get(R"(/api/v1/vms/([^/]+))", Wrap([&c](P p, R r, B) { return c.GetVm(p, r.matches[1]); }));
  http->Delete(R"(/api/v1/vms/([^/]+))",
               Wrap([&c](P p, R r, B b) { return c.VmAction(p, r.matches[1], "delete", b); }));
  http->Post(R"(/api/v1/vms/([^/]+)/disks/([^/]+)/([a-z]+))", Wrap([&c](P p, R r, B) {
               return c.DiskAction(p, r.matches[1], r.matches[2], r.matches[3]);
             }));
  http->Post(R"(/api/v1/vms/([^/]+)/([a-z]+))",
             Wrap([&c](P p, R r, B b) { return c.VmAction(p, r.matches[1], r.matches[2], b); }));

  http->Get("/api/v1/keys", Wrap([&c](P p, R, B) { return c.KeyStatus(p); }));
  http->Post("/api/v1/keys/status", Wrap([&c](P p, R, B) { return c.KeyStatusTask(p); }));
  http->Get("/api/v1/tasks", Wrap([&c](P p, R, B) { return c.ListTasks(p); }));
  http->Get(R"(/api/v1/tasks/([^/]+))", Wrap([&c](P p, R r, B) {
              int wait = r.has_param("wait") ? std::atoi(r.get_param_value("wait").c_str()) : 0;
              wait = std::clamp(wait, 0, 60);
              return c.GetTask(p, r.matches[1], std::chrono::seconds(wait));
            }));
  http->Get(
      "/api/v1/events", Wrap([&c](P p, R r, B) {
        int64_t after = r.has_param("after") ? std::atoll(r.get_param_value("after").c_str()) : 0;
        long limit = r.has_param("limit") ? std::atol(r.get_param_value("limit").c_str()) : 1000;
        return c.ListEvents(p, after, static_cast<size_t>(std::clamp(limit, 1L, 10000L)));
      }));
  http->Get("/api/v1/alarms", Wrap([&c](P p, R, B) { return c.ListAlarms(p); }));

  http->set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (res.status == 404 && res.body.empty()) {
      Fail(res, NotFoundError("no such API route: " + req.method + " " + req.path));
    }
  });
  http->set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        Fail(res, InternalError("the request failed inside center"));
      });
  http->set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    std::string user = res.get_header_value("X-Vmcrypt-User");
    log(req.method + " " + req.path + " -> " + std::to_string(res.status) +
        (user.empty() ? "" : " (" + user + ")"));
  });
}

Result<std::unique_ptr<CenterApiServer>> CenterApiServer::Start(Center* center, Logger log) {
  auto impl = std::make_unique<Impl>();
  impl->center = center;
  impl->log = log ? std::move(log) : [](const std::string&) {};
  const CenterConfig& c = center->config();
  std::string setup_error;
  impl->http = std::make_unique<httplib::SSLServer>([&](SSL_CTX& ctx) {
    SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION);
    if (SSL_CTX_use_certificate_chain_file(&ctx, c.cert_file.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(&ctx, c.key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(&ctx) != 1) {
      setup_error = "cannot load center's certificate " + c.cert_file + " and key " + c.key_file;
      return false;
    }
    return true;
  });
  if (!impl->http->is_valid()) {
    return InvalidArgumentError(setup_error.empty() ? "TLS set-up failed" : setup_error);
  }
  impl->http->set_payload_max_length(4 << 20);
  impl->http->set_read_timeout(30, 0);
  impl->http->set_write_timeout(90, 0);
  impl->Routes();
  ASSIGN_OR_RETURN(impl->port,
                   vmcrypt::internal::BindAndServe(*impl->http, c.listen, &impl->thread));
  const std::string host = c.listen.substr(0, c.listen.rfind(':'));
  const uint16_t port = impl->port;
  impl->log("center " + c.name + " listening on https://" + host + ":" + std::to_string(port));
  return std::unique_ptr<CenterApiServer>(new CenterApiServer(std::move(impl)));
}

CenterApiServer::CenterApiServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CenterApiServer::~CenterApiServer() { Shutdown(); }
uint16_t CenterApiServer::port() const { return impl_->port; }

void CenterApiServer::Shutdown() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  impl_->http->stop();
  if (impl_->thread.joinable()) impl_->thread.join();
  impl_->log("center API stopped");
}

}  // namespace vmcrypt::center
