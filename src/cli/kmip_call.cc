// `vmcrypt kmip call`: sends one KMIP request to a server and prints the
// response as KMIP XML or JSON.
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "src/cli/commands.h"
#include "src/cli/kmip_io.h"
#include "vmcrypt/kmip/client.h"
#include "vmcrypt/kmip/message.h"
#include "vmcrypt/ttlv/codec.h"
#include "vmcrypt/ttlv/dictionary.h"
#include "vmcrypt/ttlv/tags.h"

namespace vmcrypt::cli {
namespace {

using kmip::Attribute;
using kmip::Operation;

struct CallOptions {
  std::string server;
  std::string ca;
  std::string pinned;
  std::string cert;
  std::string key;
  std::string server_name;
  std::string version = "1.4";
  std::string to = "xml";
  double timeout_seconds = 30;
  bool show_secrets = false;
  // Operation arguments.
  std::string uid;
  std::vector<std::string> names;
  std::string algorithm = "AES";
  int32_t length = 256;
  std::string usage = "Encrypt Decrypt";
  std::string name;
  std::string object_type;
  int32_t max_items = 0;
  std::string reason = "CessationOfOperation";
  std::string reason_message;
  std::string key_format;
  std::string file;
  std::vector<std::string> functions;
};

int Fail(const std::string& message) {
  std::fprintf(stderr, "vmcrypt kmip call: %s\n", message.c_str());
  return 1;
}

// Replaces key material in what is printed, unless --show-secrets.
void Redact(ttlv::Item* item) {
  if (item->is_structure()) {
    for (ttlv::Item& c : item->mutable_children()) Redact(&c);
    return;
  }
  const bool secret = item->tag() == ttlv::tag::kKeyMaterial || item->tag() == ttlv::tag::kKeyValue;
  if (secret && item->type() == ttlv::ItemType::kByteString && !item->is_placeholder()) {
    *item = ttlv::Item::Placeholder(item->tag(), item->type(),
                                    "$REDACTED_" + std::to_string(item->bytes().size()) + "_BYTES");
  }
}

Result<uint32_t> EnumByName(std::string_view enum_id, const std::string& text) {
  auto v = ttlv::dict::EnumValue(enum_id, text);
  if (!v) return InvalidArgumentError("unknown " + std::string(enum_id) + " '" + text + "'");
  return *v;
}

// Builds the request payload for the chosen operation.
Result<std::pair<Operation, ttlv::Item>> BuildRequest(const std::string& op, const CallOptions& o,
                                                      kmip::ProtocolVersion v) {
  auto done = [](Operation op,
                 Result<ttlv::Item> payload) -> Result<std::pair<Operation, ttlv::Item>> {
    if (!payload.ok()) return payload.status();
    return std::make_pair(op, std::move(*payload));
  };
  if (op == "discover-versions") {
    kmip::DiscoverVersionsRequest r;
    for (const std::string& s : o.names) {
      kmip::ProtocolVersion pv;
      if (!kmip::ParseProtocolVersion(s, &pv)) return InvalidArgumentError("bad version " + s);
      r.versions.push_back(pv);
    }
    return done(Operation::kDiscoverVersions, r.Encode(v));
  }
  if (op == "query") {
    kmip::QueryRequest r;
    std::vector<std::string> fs = o.functions;
    if (fs.empty()) fs = {"QueryOperations", "QueryObjects", "QueryServerInformation"};
    for (const std::string& f : fs) {
      ASSIGN_OR_RETURN(uint32_t fv, EnumByName("QueryFunction", f));
      r.functions.push_back(fv);
    }
    return done(Operation::kQuery, r.Encode(v));
  }
  if (op == "create") {
    kmip::CreateRequest r;
    ASSIGN_OR_RETURN(uint32_t alg, EnumByName("CryptographicAlgorithm", o.algorithm));
    r.attributes.push_back(Attribute::Enum("Cryptographic Algorithm", alg));
    r.attributes.push_back(Attribute::Integer("Cryptographic Length", o.length));
    int32_t mask = 0;
    size_t pos = 0;
    while (pos < o.usage.size()) {
      size_t end = o.usage.find_first_of(" |,", pos);
      if (end == std::string::npos) end = o.usage.size();
      std::string word = o.usage.substr(pos, end - pos);
      if (!word.empty()) {
        auto bit = ttlv::dict::MaskBit("CryptographicUsageMask", word);
        if (!bit) return InvalidArgumentError("unknown usage '" + word + "'");
        mask |= static_cast<int32_t>(*bit);
      }
      pos = end + 1;
    }
    r.attributes.push_back(Attribute::Integer("Cryptographic Usage Mask", mask));
    if (!o.name.empty()) r.attributes.push_back(Attribute::Name(o.name));
    return done(Operation::kCreate, r.Encode(v));
  }
  if (op == "get") {
    kmip::GetRequest r;
    r.uid = o.uid;
    if (!o.key_format.empty()) {
      ASSIGN_OR_RETURN(uint32_t f, EnumByName("KeyFormatType", o.key_format));
      r.key_format_type = f;
    }
    return done(Operation::kGet, r.Encode(v));
  }
  if (op == "get-attributes") {
    kmip::GetAttributesRequest r{o.uid, o.names};
    return done(Operation::kGetAttributes, r.Encode(v));
  }
  if (op == "get-attribute-list") {
    return done(Operation::kGetAttributeList, kmip::GetAttributeListRequest{o.uid}.Encode(v));
  }
  if (op == "locate") {
    kmip::LocateRequest r;
    if (o.max_items > 0) r.maximum_items = o.max_items;
    if (!o.name.empty()) r.attributes.push_back(Attribute::Name(o.name));
    if (!o.object_type.empty()) {
      ASSIGN_OR_RETURN(uint32_t t, EnumByName("ObjectType", o.object_type));
      r.attributes.push_back(Attribute::Enum("Object Type", t));
    }
    return done(Operation::kLocate, r.Encode(v));
  }
  if (op == "activate") return done(Operation::kActivate, kmip::UidRequest{o.uid}.Encode(v));
  if (op == "destroy") return done(Operation::kDestroy, kmip::UidRequest{o.uid}.Encode(v));
  if (op == "revoke") {
    kmip::RevokeRequest r;
    r.uid = o.uid;
    ASSIGN_OR_RETURN(r.reason_code, EnumByName("RevocationReasonCode", o.reason));
    if (!o.reason_message.empty()) r.reason_message = o.reason_message;
    return done(Operation::kRevoke, r.Encode(v));
  }
  return InvalidArgumentError("unknown operation '" + op + "'");
}

int RunCall(const std::string& op, const CallOptions& o) {
  kmip::ClientOptions co;
  size_t colon = o.server.rfind(':');
  if (colon == std::string::npos) return Fail("--server must be HOST:PORT");
  co.host = o.server.substr(0, colon);
  if (co.host.size() > 2 && co.host.front() == '[' && co.host.back() == ']') {
    co.host = co.host.substr(1, co.host.size() - 2);
  }
  try {
    int port = std::stoi(o.server.substr(colon + 1));
    if (port <= 0 || port > 65535) return Fail("bad port in --server");
    co.port = static_cast<uint16_t>(port);
  } catch (const std::exception&) {
    return Fail("bad port in --server");
  }
  co.ca_file = o.ca;
  co.pinned_server_cert_file = o.pinned;
  co.cert_file = o.cert;
  co.key_file = o.key;
  co.server_name = o.server_name;
  co.io_timeout = std::chrono::milliseconds(static_cast<int64_t>(o.timeout_seconds * 1000));
  co.connect_timeout = co.io_timeout;
  if (!kmip::ParseProtocolVersion(o.version, &co.version))
    return Fail("bad --version " + o.version);

  auto client = kmip::Client::Create(co);
  if (!client.ok()) return Fail(client.status().message());

  kmip::RequestMessage request;
  if (op == "send") {
    auto text = ReadInput(o.file);
    if (!text.ok()) return Fail(text.status().message());
    auto items = ParseText(*text, "auto");
    if (!items.ok()) return Fail(items.status().message());
    if (items->size() != 1) return Fail("send takes one Request Message");
    auto decoded = kmip::DecodeRequest((*items)[0]);
    if (!decoded.ok()) return Fail(decoded.status().message());
    request = std::move(*decoded);
    co.version = request.version;
    (*client)->set_version(request.version);
  } else {
    auto built = BuildRequest(op, o, co.version);
    if (!built.ok()) return Fail(built.status().message());
    request.items.push_back(
        {built->first, std::nullopt, std::nullopt, std::move(built->second), std::nullopt});
  }
  auto response = (*client)->Send(std::move(request));
  (*client)->Close();
  if (!response.ok()) return Fail(response.status().message());
  auto tree = kmip::EncodeResponse(*response);
  if (!tree.ok()) return Fail(tree.status().message());
  if (!o.show_secrets) Redact(&*tree);
  std::cout << FormatText({*tree}, o.to);
  for (const kmip::ResponseBatchItem& item : response->items) {
    if (!item.ok()) return Fail(item.ToStatus().message());
  }
  return 0;
}

}  // namespace

void AddKmipCallCommand(CLI::App& kmip, Action* action) {
  auto o = std::make_shared<CallOptions>();
  CLI::App* call = kmip.add_subcommand("call", "send one request to a KMIP server");
  call->add_option("--server", o->server, "HOST:PORT of the KMIP server")->required();
  call->add_option("--ca", o->ca, "CA certificate(s) that sign the server certificate (PEM)");
  call->add_option("--pin", o->pinned, "or: the exact server certificate to accept (PEM)");
  call->add_option("--cert", o->cert, "client certificate (PEM)");
  call->add_option("--key", o->key, "client private key (PEM)");
  call->add_option("--server-name", o->server_name, "name to check in the server certificate");
  call->add_option("--version", o->version, "KMIP protocol version (1.0 ... 2.1)");
  call->add_option("--to", o->to, "output form")->check(CLI::IsMember({"xml", "json"}));
  call->add_option("--timeout", o->timeout_seconds, "connect and I/O timeout, seconds");
  call->add_flag("--show-secrets", o->show_secrets, "print key material instead of redacting it");
  call->require_subcommand(1);

  auto add = [&](const char* name, const char* help) {
    CLI::App* sub = call->add_subcommand(name, help);
    std::string op = name;
    sub->callback([action, o, op] { *action = [o, op] { return RunCall(op, *o); }; });
    return sub;
  };
  add("discover-versions", "Discover Versions")
      ->add_option("versions", o->names, "versions to offer, e.g. 2.0 1.4");
  add("query", "Query (default: operations, objects, server information)")
      ->add_option("functions", o->functions, "QueryOperations QueryObjects ...");
  CLI::App* create = add("create", "Create a symmetric key");
  create->add_option("--algorithm", o->algorithm, "Cryptographic Algorithm (AES, ...)");
  create->add_option("--length", o->length, "Cryptographic Length in bits");
  create->add_option("--usage", o->usage, "usage mask names, e.g. \"Encrypt Decrypt\"");
  create->add_option("--name", o->name, "a Name attribute");
  CLI::App* get = add("get", "Get an object");
  get->add_option("uid", o->uid, "Unique Identifier")->required();
  get->add_option("--format", o->key_format, "Key Format Type (Raw, TransparentSymmetricKey ...)");
  CLI::App* ga = add("get-attributes", "Get Attributes");
  ga->add_option("uid", o->uid, "Unique Identifier")->required();
  ga->add_option("names", o->names, "attribute names (default: all)");
  add("get-attribute-list", "Get Attribute List")
      ->add_option("uid", o->uid, "Unique Identifier")
      ->required();
  CLI::App* locate = add("locate", "Locate objects");
  locate->add_option("--name", o->name, "match the Name attribute");
  locate->add_option("--object-type", o->object_type, "match the Object Type (SymmetricKey ...)");
  locate->add_option("--max", o->max_items, "Maximum Items");
  add("activate", "Activate")->add_option("uid", o->uid, "Unique Identifier")->required();
  CLI::App* revoke = add("revoke", "Revoke");
  revoke->add_option("uid", o->uid, "Unique Identifier")->required();
  revoke->add_option("--reason", o->reason, "Revocation Reason Code (KeyCompromise ...)");
  revoke->add_option("--message", o->reason_message, "Revocation Message");
  add("destroy", "Destroy")->add_option("uid", o->uid, "Unique Identifier")->required();
  add("send", "send a Request Message given as KMIP XML or JSON")
      ->add_option("file", o->file, "FILE or -")
      ->required();
}

}  // namespace vmcrypt::cli
