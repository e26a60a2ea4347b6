#include "src/cli/client.h"

// The package's pkg-config flags define it already; the client needs it.
#ifndef CPPHTTPLIB_OPENSSL_SUPPORT
#define CPPHTTPLIB_OPENSSL_SUPPORT
#endif
#include <httplib.h>
#include <openssl/x509.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace vmcrypt::cli {

struct CenterClient::Http {
  Http(const std::string& host, int port, std::string ca) : client(host, port), ca_file(ca) {}
  httplib::SSLClient client;
  std::string ca_file;
};

namespace {

constexpr const char* kApiPrefix = "/api/v1";

// The flag if set, else the variable (empty when neither is).
std::string FlagOrEnv(const std::string& flag, const char* variable) {
  if (!flag.empty()) return flag;
  const char* value = std::getenv(variable);
  return value != nullptr ? value : "";
}

struct Endpoint {
  std::string host;  // without brackets for IPv6
  int port = CenterClient::kDefaultPort;
};

// "https://HOST[:PORT][/]"; IPv6 hosts in brackets.
Result<Endpoint> ParseEndpoint(const std::string& url) {
  const std::string bad = "center address \"" + url + "\" is not https://HOST:PORT";
  const std::string scheme = "https://";
  if (url.rfind("http://", 0) == 0) {
    return InvalidArgumentError(bad + " (center serves HTTPS only: use https://)");
  }
  if (url.rfind(scheme, 0) != 0) return InvalidArgumentError(bad);
  std::string rest = url.substr(scheme.size());
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.empty() || rest.find('/') != std::string::npos) return InvalidArgumentError(bad);

  Endpoint e;
  std::string port;
  if (rest.front() == '[') {
    const size_t close = rest.find(']');
    if (close == std::string::npos || close == 1) return InvalidArgumentError(bad);
    e.host = rest.substr(1, close - 1);
    std::string after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return InvalidArgumentError(bad);
      port = after.substr(1);
    }
  } else {
    const size_t colon = rest.rfind(':');
    e.host = rest.substr(0, colon);
    if (colon != std::string::npos) port = rest.substr(colon + 1);
    if (e.host.empty() || e.host.find(':') != std::string::npos) return InvalidArgumentError(bad);
  }
  if (port.empty()) return e;
  if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) {
    return InvalidArgumentError(bad + " (bad port)");
  }
  e.port = std::atoi(port.c_str());
  if (e.port < 1 || e.port > 65535) return InvalidArgumentError(bad + " (bad port)");
  return e;
}

// Checks that `path` is readable and holds a PEM certificate, so that a
// wrong --ca fails with a message about the file, not about TLS.
Status CheckCaFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFoundError("cannot read the CA file " + path);
  std::stringstream text;
  text << in.rdbuf();
  if (text.str().find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
    return NotFoundError("the CA file " + path + " holds no PEM certificate");
  }
  return OkStatus();
}

Status ErrorForHttpStatus(int http, const std::string& message) {
  switch (http) {
    case 400:
      return InvalidArgumentError(message);
    case 401:
      return UnauthenticatedError(message);
    case 403:
      return PermissionDeniedError(message);
    case 404:
      return NotFoundError(message);
    case 409:
      return FailedPreconditionError(message);
    case 503:
      return UnavailableError(message);
    default:
      return InternalError(message);
  }
}

// "PERMISSION_DENIED" (StatusCodeName) -> "PermissionDenied"; other
// spellings are kept.
std::string CodeName(const std::string& code) {
  if (code.find_first_of("abcdefghijklmnopqrstuvwxyz") != std::string::npos) return code;
  std::string out;
  bool upper = true;
  for (char c : code) {
    if (c == '_') {
      upper = true;
      continue;
    }
    out += upper ? c : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    upper = false;
  }
  return out;
}

// "403 PermissionDenied: MESSAGE" from an error reply; the body is quoted
// (shortened) when it is not the API's {"error", "code"}.
Status ErrorReply(const httplib::Response& res) {
  std::string message = std::to_string(res.status);
  Json body = Json::parse(res.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_object() && body.contains("error") && body["error"].is_string()) {
    if (body.contains("code") && body["code"].is_string()) {
      message += " " + CodeName(body["code"].get<std::string>());
    }
    message += ": " + body["error"].get<std::string>();
  } else {
    std::string text = res.body.substr(0, 200);
    message += text.empty() ? ": (no error message)" : ": " + text;
  }
  if (res.status == 401) message += " (check --token or VMCRYPT_TOKEN)";
  return ErrorForHttpStatus(res.status, message);
}

}  // namespace

Result<std::unique_ptr<CenterClient>> CenterClient::Create(const CenterFlags& flags) {
  const std::string url = FlagOrEnv(flags.center, "VMCRYPT_CENTER");
  const std::string token = FlagOrEnv(flags.token, "VMCRYPT_TOKEN");
  const std::string ca = FlagOrEnv(flags.ca, "VMCRYPT_CA");
  if (url.empty()) {
    return InvalidArgumentError(
        "no center address: pass --center https://HOST:PORT or set VMCRYPT_CENTER");
  }
  ASSIGN_OR_RETURN(Endpoint e, ParseEndpoint(url));
  if (token.empty()) {
    return InvalidArgumentError("no API token: set VMCRYPT_TOKEN or pass --token TOKEN");
  }
  // A token is sent in a header: refuse control characters (never echo it).
  for (char c : token) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return InvalidArgumentError("the API token holds control characters");
    }
  }
  if (ca.empty()) {
    return InvalidArgumentError(
        "no CA file to verify center with: pass --ca FILE or set VMCRYPT_CA (center's ca.crt)");
  }
  RETURN_IF_ERROR(CheckCaFile(ca));

  auto http = std::make_unique<Http>(e.host, e.port, ca);
  httplib::SSLClient& c = http->client;
  c.set_ca_cert_path(ca.c_str());
  c.enable_server_certificate_verification(true);
  c.set_bearer_token_auth(token.c_str());
  c.set_connection_timeout(kConnectTimeoutSeconds, 0);
  c.set_read_timeout(kReadTimeoutSeconds, 0);
  c.set_write_timeout(kReadTimeoutSeconds, 0);
  c.set_keep_alive(true);
  const bool v6 = e.host.find(':') != std::string::npos;
  std::string endpoint =
      "https://" + (v6 ? "[" + e.host + "]" : e.host) + ":" + std::to_string(e.port);
  return std::unique_ptr<CenterClient>(new CenterClient(std::move(endpoint), std::move(http)));
}

CenterClient::CenterClient(std::string endpoint, std::unique_ptr<Http> http)
    : endpoint_(std::move(endpoint)), http_(std::move(http)) {}

CenterClient::~CenterClient() = default;

std::string CenterClient::Escape(const std::string& segment) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : segment) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

Result<Json> CenterClient::Get(const std::string& path) { return Send("GET", path, nullptr, 0); }

Result<Json> CenterClient::Post(const std::string& path, const Json& body) {
  return Send("POST", path, &body, 0);
}

Result<Json> CenterClient::Delete(const std::string& path) {
  return Send("DELETE", path, nullptr, 0);
}

Result<Json> CenterClient::PollTask(const std::string& id, int wait_seconds) {
  return Send("GET", "/tasks/" + Escape(id) + "?wait=" + std::to_string(wait_seconds), nullptr,
              wait_seconds);
}

Result<Json> CenterClient::Send(const char* method, const std::string& path, const Json* body,
                                int extra_read_seconds) {
  httplib::SSLClient& c = http_->client;
  // A long poll may legitimately keep the reply back for its wait time.
  c.set_read_timeout(kReadTimeoutSeconds + extra_read_seconds, 0);
  const std::string target = std::string(kApiPrefix) + path;
  const httplib::Headers headers = {{"Accept", "application/json"}};
  const std::string m = method;
  httplib::Result res = [&] {
    if (m == "GET") return c.Get(target, headers);
    if (m == "DELETE") return c.Delete(target, headers);
    return c.Post(target, headers, body != nullptr ? body->dump() : "{}", "application/json");
  }();

  if (!res) {
    const httplib::Error err = res.error();
    const std::string at = " center at " + endpoint_;
    switch (err) {
      case httplib::Error::Connection:
        return UnavailableError("cannot reach" + at +
                                ": connection failed (is `vmcrypt center serve` running there?)");
      case httplib::Error::ConnectionTimeout:
        return UnavailableError("cannot reach" + at + ": no answer within " +
                                std::to_string(kConnectTimeoutSeconds) + " s");
      case httplib::Error::SSLServerVerification: {
        const long v = c.get_openssl_verify_result();
        const std::string why = v != X509_V_OK
                                    ? X509_verify_cert_error_string(v)
                                    : "its certificate does not name the host of the address";
        return UnauthenticatedError("cannot verify" + at + " with the CA file " + http_->ca_file +
                                    ": " + why);
      }
      case httplib::Error::SSLLoadingCerts:
        return InvalidArgumentError("cannot load the CA file " + http_->ca_file);
      case httplib::Error::SSLConnection:
        return UnavailableError("TLS handshake with" + at + " failed (is it center's HTTPS port?)");
      case httplib::Error::Read:
        return UnavailableError("no reply from" + at + " (connection closed or timed out)");
      case httplib::Error::Write:
        return UnavailableError("cannot send the request to" + at);
      default:
        return UnavailableError("request to" + at + " failed: " + httplib::to_string(err));
    }
  }
  if (res->status < 200 || res->status > 299) return ErrorReply(*res);
  if (res->body.empty()) return Json::object();
  Json doc = Json::parse(res->body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return InternalError("center answered " + std::string(method) + " " + target +
                         " with a body that is not JSON");
  }
  return doc;
}

}  // namespace vmcrypt::cli
