// Standard key providers: a named cluster of KMIP servers (key_provider.h).
//
// One kmip::Client per server, each behind its own mutex (a Client is not
// thread-safe). A call goes to the server that answered last, then to the
// others in the document's order; a server that cannot be reached (connect,
// TLS or timeout failure, or no usable trust settings) is skipped, while a
// KMIP error from a server that answered is the answer.
#include <openssl/evp.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <mutex>
#include <set>
#include <vector>

#include "src/center/provider_internal.h"
#include "vmcrypt/base/encoding.h"
#include "vmcrypt/base/file_util.h"
#include "vmcrypt/center/key_provider.h"
#include "vmcrypt/kmip/client.h"
#include "vmcrypt/ttlv/tags.h"

namespace vmcrypt::center {
namespace {

using kmip::Attribute;

constexpr char kDefaultVersion[] = "1.4";
// vCenter's custom attributes (KMIP 1.x names; 2.x maps "x-Name" to vendor
// "x", attribute "Name").
constexpr char kVendor[] = "x-Vendor";
constexpr char kProduct[] = "x-Product";
constexpr char kProductVersion[] = "x-Product_Version";
constexpr char kComponent[] = "x-Component";
constexpr char kTagName[] = "x-Name";
constexpr char kIdentifier[] = "x-Identifier";

// True when `s` says that the server could not be reached or could not be
// trusted, rather than that it answered: such a server is skipped. A KMIP
// answer always carries its Result Reason as the status detail.
bool IsTransportFailure(const Status& s) {
  if (s.detail() != 0) return false;
  switch (s.code()) {
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded:
    case StatusCode::kUnauthenticated:  // TLS verification or pin mismatch
      return true;
    default:
      return false;
  }
}

// True when a server answered that it does not take custom attributes (or
// the operation that sets them). PyKMIP 0.10, for one, answers Create with
// "Invalid Field: The x-Vendor attribute is unsupported." and has no Add
// Attribute; vCenter's tags are informational, so such a server is used
// without them.
bool RefusedCustomAttributes(const Status& s) {
  if (s.detail() == 0) return false;
  return s.code() == StatusCode::kInvalidArgument || s.code() == StatusCode::kUnimplemented;
}

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr) != 1) return "";
  return HexEncode(std::span<const uint8_t>(digest, len));
}

// Writes a public PEM (a certificate or CA bundle) to a file under `dir`
// named after its content, so that concurrent writers never disagree;
// returns the path.
Result<std::string> WritePublicPem(const std::string& dir, const std::string& prefix,
                                   const std::string& pem) {
  const std::string hash = Sha256Hex(pem);
  if (hash.empty()) return InternalError("cannot hash a certificate");
  const std::string path = dir + "/" + prefix + "-" + hash.substr(0, 16) + ".pem";
  Status written = WriteFileAtomic(path, AsBytes(pem), 0644, /*overwrite=*/false);
  if (!written.ok() && written.code() != StatusCode::kAlreadyExists) return written;
  return path;
}

// One KMIP server of the cluster.
struct KeyServer {
  std::string address;
  std::mutex mu;                         // guards `client`
  std::unique_ptr<kmip::Client> client;  // null when `setup_error` says why
  Status setup_error;
};

class StandardProvider : public KeyProvider {
 public:
  StandardProvider(std::string name, std::vector<std::unique_ptr<KeyServer>> servers,
                   const ProviderContext& ctx)
      : name_(std::move(name)), servers_(std::move(servers)), ctx_(ctx) {}

  const std::string& name() const override { return name_; }
  std::string type() const override { return "standard"; }
  Result<std::string> CreateKey() override;
  Result<SecretBytes> GetKey(const std::string& key_id) override;
  Status TagKey(const std::string& key_id, const KeyTag& tag) override;
  KeyCheck CheckKey(const std::string& key_id) override;

 private:
  // Runs `op` on the first server that answers (see the file comment).
  // Unavailable "key server cluster P unreachable: A: reason; B: reason"
  // when none does.
  template <typename T>
  Result<T> OnCluster(const std::function<Result<T>(kmip::Client&)>& op);

  const std::string name_;
  std::vector<std::unique_ptr<KeyServer>> servers_;
  const ProviderContext ctx_;
  std::atomic<size_t> preferred_{0};  // index of the server that answered last
};

template <typename T>
Result<T> StandardProvider::OnCluster(const std::function<Result<T>(kmip::Client&)>& op) {
  const size_t first = preferred_.load();
  std::vector<size_t> order = {first};
  for (size_t i = 0; i < servers_.size(); ++i) {
    if (i != first) order.push_back(i);
  }
  std::string reasons;
  for (size_t i : order) {
    KeyServer& server = *servers_[i];
    Status failure;
    {
      std::lock_guard<std::mutex> lock(server.mu);
      if (!server.client) {
        failure = server.setup_error;
      } else {
        Result<T> result = op(*server.client);
        if (result.ok() || !IsTransportFailure(result.status())) {
          preferred_.store(i);
          return result;
        }
        failure = result.status();
      }
    }
    if (!reasons.empty()) reasons += "; ";
    reasons += server.address + ": " + failure.message();
  }
  return UnavailableError("key server cluster " + name_ + " unreachable: " + reasons);
}

kmip::CreateRequest Aes256Request(const ProviderContext& ctx, bool custom) {
  kmip::CreateRequest r;
  r.object_type = kmip::ObjectType::kSymmetricKey;
  r.attributes = {Attribute::Enum("Cryptographic Algorithm",
                                  static_cast<uint32_t>(kmip::CryptographicAlgorithm::kAes)),
                  Attribute::Integer("Cryptographic Length", 256),
                  Attribute::Integer("Cryptographic Usage Mask",
                                     kmip::usage::kEncrypt | kmip::usage::kDecrypt |
                                         kmip::usage::kWrapKey | kmip::usage::kUnwrapKey)};
  if (custom) {
    r.attributes.push_back(Attribute::Text(kVendor, ctx.vendor));
    r.attributes.push_back(Attribute::Text(kProduct, ctx.product));
    r.attributes.push_back(Attribute::Text(kProductVersion, ctx.product_version));
  }
  return r;
}

Result<std::string> StandardProvider::CreateKey() {
  return OnCluster<std::string>([this](kmip::Client& c) -> Result<std::string> {
    Result<kmip::CreateResponse> created = c.Create(Aes256Request(ctx_, /*custom=*/true));
    if (!created.ok() && RefusedCustomAttributes(created.status())) {
      created = c.Create(Aes256Request(ctx_, /*custom=*/false));
    }
    if (!created.ok()) return created.status();
    const std::string uid = created->uid;
    Status activated = c.Activate(uid);
    if (!activated.ok()) {
      // Do not leave an unusable key behind when the server can still hear us.
      if (!IsTransportFailure(activated)) c.Destroy(uid).IgnoreError();
      return activated.WithContext("new key " + uid + " could not be activated");
    }
    return uid;
  });
}

// The 32 key bytes of a Get answer, in Raw or Transparent Symmetric Key form.
Result<SecretBytes> KeyBytes(const std::string& key_id, const kmip::GetResponse& got) {
  if (got.object_type != kmip::ObjectType::kSymmetricKey || !got.object.key_block) {
    return FailedPreconditionError("key " + key_id + " is not a symmetric key");
  }
  const kmip::KeyBlock& block = *got.object.key_block;
  if (block.wrapped_key_value) {
    return FailedPreconditionError("key " + key_id + " was returned wrapped");
  }
  if (block.cryptographic_algorithm &&
      *block.cryptographic_algorithm != static_cast<uint32_t>(kmip::CryptographicAlgorithm::kAes)) {
    return FailedPreconditionError("key " + key_id + " is not an AES key");
  }
  SecretBytes key;
  switch (static_cast<kmip::KeyFormatType>(block.key_format_type)) {
    case kmip::KeyFormatType::kRaw:
      key = block.key_material.Clone();
      break;
    case kmip::KeyFormatType::kTransparentSymmetricKey: {
      const ttlv::Item* k = block.key_material_structure
                                ? block.key_material_structure->Find(ttlv::tag::kKey)
                                : nullptr;
      if (k == nullptr || k->type() != ttlv::ItemType::kByteString) {
        return FailedPreconditionError("key " + key_id + " has no Key in its Key Material");
      }
      key = SecretBytes(std::span<const uint8_t>(k->bytes().data(), k->bytes().size()));
      break;
    }
    default:
      return FailedPreconditionError("key " + key_id + " came in key format " +
                                     std::to_string(block.key_format_type) +
                                     ", not Raw or Transparent Symmetric Key");
  }
  if (key.size() != 32) {
    return FailedPreconditionError("key " + key_id + " is " + std::to_string(key.size() * 8) +
                                   " bits long, not 256");
  }
  return key;
}

Result<SecretBytes> StandardProvider::GetKey(const std::string& key_id) {
  return OnCluster<SecretBytes>([&](kmip::Client& c) -> Result<SecretBytes> {
    kmip::GetRequest request;
    request.uid = key_id;
    ASSIGN_OR_RETURN(kmip::GetResponse got, c.Get(request));
    return KeyBytes(key_id, got);
  });
}

// Sets one text attribute to `wanted`: Add when absent, Modify when it holds
// another value, nothing when it already holds `wanted` (so a re-tag works).
Status SetTextAttribute(kmip::Client& c, const std::string& key_id, const kmip::AttributeList& have,
                        const Attribute& wanted) {
  const Attribute* current = kmip::FindAttribute(have, wanted.name);
  if (current == nullptr) return c.AddAttribute({key_id, wanted}).status();
  if (current->value.type() == ttlv::ItemType::kTextString &&
      current->value.text() == wanted.value.text()) {
    return OkStatus();
  }
  const kmip::ProtocolVersion v = c.options().version;
  kmip::ModifyAttributeRequest modify;
  modify.uid = key_id;
  modify.attribute = wanted;
  if (v.is_v2()) {
    modify.current_attribute = *current;  // 2.1 §6.1.31: names the instance
  } else {
    modify.attribute.index = current->index;  // 1.4 §4.15: Attribute Index
  }
  ASSIGN_OR_RETURN(ttlv::Item payload, modify.Encode(v));
  return c.Call(kmip::Operation::kModifyAttribute, payload).status();
}

// The tag attributes the key has now. Asks for the names first, and for
// values only of names that exist: PyKMIP 0.10 in KMIP 2.0 cannot encode an
// empty Get Attributes answer and never replies to one.
Result<kmip::AttributeList> CurrentTags(kmip::Client& c, const std::string& key_id) {
  Result<kmip::GetAttributeListResponse> list = c.GetAttributeList(key_id);
  if (!list.ok()) {
    if (RefusedCustomAttributes(list.status())) return kmip::AttributeList{};
    return list.status();
  }
  kmip::GetAttributesRequest query;
  query.uid = key_id;
  for (const char* name : {kComponent, kTagName, kIdentifier}) {
    if (std::find(list->names.begin(), list->names.end(), name) != list->names.end()) {
      query.names.push_back(name);
    }
  }
  if (query.names.empty()) return kmip::AttributeList{};
  ASSIGN_OR_RETURN(kmip::GetAttributesResponse have, c.GetAttributes(query));
  return std::move(have.attributes);
}

Status StandardProvider::TagKey(const std::string& key_id, const KeyTag& tag) {
  const std::vector<Attribute> wanted = {Attribute::Text(kComponent, tag.component),
                                         Attribute::Text(kTagName, tag.name),
                                         Attribute::Text(kIdentifier, tag.identifier)};
  return OnCluster<bool>([&](kmip::Client& c) -> Result<bool> {
           ASSIGN_OR_RETURN(kmip::AttributeList existing, CurrentTags(c, key_id));
           for (const Attribute& a : wanted) {
             Status set = SetTextAttribute(c, key_id, existing, a);
             // A server without custom attributes keeps no tags (see
             // RefusedCustomAttributes); the key itself is fine.
             if (!set.ok() && RefusedCustomAttributes(set)) return true;
             if (!set.ok()) return set;
           }
           return true;
         })
      .status();
}

KeyCheck StandardProvider::CheckKey(const std::string& key_id) {
  Result<kmip::GetAttributesResponse> attrs =
      OnCluster<kmip::GetAttributesResponse>([&](kmip::Client& c) {
        kmip::GetAttributesRequest query;
        query.uid = key_id;
        query.names = {"State"};
        return c.GetAttributes(query);
      });
  if (!attrs.ok()) {
    const Status& s = attrs.status();
    switch (s.code()) {
      case StatusCode::kNotFound:
        return {KeyState::kMissing,
                "key " + key_id + " not found in key server cluster " + name_ + ": " + s.message()};
      case StatusCode::kUnavailable:
        return {KeyState::kUnreachable, s.message()};
      default:
        return {KeyState::kUnusable, "key " + key_id + ": " + s.message()};
    }
  }
  const Attribute* state = kmip::FindAttribute(attrs->attributes, "State");
  if (state == nullptr) {
    return {KeyState::kUnusable,
            "key server cluster " + name_ + " gave no State for key " + key_id};
  }
  const auto value = static_cast<kmip::State>(state->value.int_value());
  switch (value) {
    case kmip::State::kActive:
      return {KeyState::kAvailable, ""};
    case kmip::State::kDestroyed:
    case kmip::State::kDestroyedCompromised:
      return {KeyState::kMissing, "key " + key_id + " is " + std::string(kmip::StateName(value))};
    default: {
      std::string name(kmip::StateName(value));
      if (name.empty()) name = "in state " + std::to_string(state->value.int_value());
      return {KeyState::kUnusable, "key " + key_id + " is " + name};
    }
  }
}

}  // namespace

namespace internal {

Result<std::string> JsonString(const Json& obj, const char* key, bool required) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    if (required) return InvalidArgumentError(std::string("missing \"") + key + "\"");
    return std::string();
  }
  if (!it->is_string()) return InvalidArgumentError(std::string("\"") + key + "\" is not a string");
  return it->get<std::string>();
}

Status SplitAddress(const std::string& address, std::string* host, uint16_t* port) {
  const Status bad =
      InvalidArgumentError("bad key server address '" + address + "': expected HOST:PORT");
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size()) return bad;
  std::string h = address.substr(0, colon);
  if (h.front() == '[') {
    if (h.size() < 3 || h.back() != ']') return bad;
    h = h.substr(1, h.size() - 2);
  } else if (h.find(':') != std::string::npos) {
    return bad;  // an IPv6 address needs brackets
  }
  const std::string p = address.substr(colon + 1);
  if (p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos) return bad;
  const int value = std::stoi(p);
  if (value <= 0 || value > 65535) return bad;
  *host = h;
  *port = static_cast<uint16_t>(value);
  return OkStatus();
}

Status EnsurePrivateDir(const std::string& dir) {
  if (dir.empty()) return InvalidArgumentError("no provider folder given");
  std::error_code ec;
  if (std::filesystem::is_directory(dir, ec)) return OkStatus();
  const std::filesystem::path path(dir);
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return InternalError("cannot create folder " + dir + ": " + std::strerror(errno));
  }
  return OkStatus();
}

Result<std::unique_ptr<KeyProvider>> MakeStandardProvider(const Json& doc,
                                                          const ProviderContext& ctx) {
  ASSIGN_OR_RETURN(std::string name, JsonString(doc, "name", true));
  auto bad = [&](const Status& s) { return s.WithContext("standard key provider " + name); };
  ASSIGN_OR_RETURN(std::string version_text, JsonString(doc, "version", false));
  if (version_text.empty()) version_text = kDefaultVersion;
  kmip::ProtocolVersion version;
  const auto& supported = kmip::SupportedVersions();
  if (!kmip::ParseProtocolVersion(version_text, &version) ||
      std::find(supported.begin(), supported.end(), version) == supported.end()) {
    return bad(InvalidArgumentError("bad KMIP version '" + version_text + "'"));
  }
  auto servers_it = doc.find("servers");
  if (servers_it == doc.end() || !servers_it->is_array() || servers_it->empty()) {
    return bad(InvalidArgumentError("no key servers"));
  }
  Status dir_ok = EnsurePrivateDir(ctx.provider_dir);
  if (!dir_ok.ok()) return bad(dir_ok);

  // The client identity, shared by every server.
  Result<std::string> client_cert = JsonString(doc, "client_cert", false);
  Result<std::string> client_key = JsonString(doc, "client_key_file", false);
  if (!client_cert.ok()) return bad(client_cert.status());
  if (!client_key.ok()) return bad(client_key.status());
  std::string client_cert_file;
  if (!client_cert->empty() && !client_key->empty()) {
    Result<std::string> path = WritePublicPem(ctx.provider_dir, "client", *client_cert);
    if (!path.ok()) return bad(path.status());
    client_cert_file = *path;
  }

  std::vector<std::unique_ptr<KeyServer>> servers;
  for (const Json& entry : *servers_it) {
    if (!entry.is_object()) return bad(InvalidArgumentError("a server entry is not an object"));
    auto server = std::make_unique<KeyServer>();
    Result<std::string> address = JsonString(entry, "address", true);
    if (!address.ok()) return bad(address.status());
    server->address = *address;
    kmip::ClientOptions o;
    Status split = SplitAddress(server->address, &o.host, &o.port);
    if (!split.ok()) return bad(split);
    Result<std::string> server_name = JsonString(entry, "server_name", false);
    Result<std::string> pinned = JsonString(entry, "pinned_cert", false);
    Result<std::string> ca = JsonString(entry, "ca_cert", false);
    for (const auto* r : {&server_name, &pinned, &ca}) {
      if (!r->ok()) return bad(r->status().WithContext(server->address));
    }
    o.server_name = *server_name;
    o.version = version;
    o.connect_timeout = ctx.timeout;
    o.io_timeout = ctx.timeout;
    o.cert_file = client_cert_file;
    o.key_file = client_cert_file.empty() ? "" : *client_key;
    Result<std::string> trust_file = std::string();
    if (!pinned->empty()) {
      trust_file = WritePublicPem(ctx.provider_dir, "server", *pinned);
      if (trust_file.ok()) o.pinned_server_cert_file = *trust_file;
    } else if (!ca->empty()) {
      trust_file = WritePublicPem(ctx.provider_dir, "ca", *ca);
      if (trust_file.ok()) o.ca_file = *trust_file;
    } else {
      trust_file = FailedPreconditionError(
          "no server certificate or CA trusted yet (fetch and pin its certificate, or trust its "
          "CA)");
    }
    if (!trust_file.ok()) {
      server->setup_error = trust_file.status();
    } else {
      Result<std::unique_ptr<kmip::Client>> client = kmip::Client::Create(o);
      if (client.ok()) {
        server->client = std::move(*client);
      } else {
        server->setup_error = client.status();
      }
    }
    servers.push_back(std::move(server));
  }
  return std::unique_ptr<KeyProvider>(
      std::make_unique<StandardProvider>(std::move(name), std::move(servers), ctx));
}

}  // namespace internal

const char* KeyStateName(KeyState state) {
  switch (state) {
    case KeyState::kAvailable:
      return "available";
    case KeyState::kMissing:
      return "missing";
    case KeyState::kUnreachable:
      return "unreachable";
    case KeyState::kUnusable:
      return "unusable";
    default:
      return "unknown";
  }
}

Result<std::unique_ptr<KeyProvider>> MakeKeyProvider(const Json& doc, const ProviderContext& ctx) {
  if (!doc.is_object()) return InvalidArgumentError("a key provider document must be an object");
  ASSIGN_OR_RETURN(std::string type, internal::JsonString(doc, "type", true));
  if (type == "standard") return internal::MakeStandardProvider(doc, ctx);
  if (type == "native") return internal::MakeNativeProvider(doc, ctx);
  return InvalidArgumentError("unknown key provider type '" + type + "'");
}

Result<Json> NewStandardProvider(const std::string& name,
                                 const std::vector<std::string>& addresses) {
  if (name.empty()) return InvalidArgumentError("a key provider needs a name");
  if (addresses.empty()) {
    return InvalidArgumentError("key provider " + name + " needs at least one key server");
  }
  Json servers = Json::array();
  std::set<std::string> seen;
  for (const std::string& address : addresses) {
    std::string host;
    uint16_t port = 0;
    RETURN_IF_ERROR(internal::SplitAddress(address, &host, &port));
    if (!seen.insert(address).second) {
      return InvalidArgumentError("key server " + address + " is listed twice");
    }
    servers.push_back({{"address", address}});
  }
  return Json{{"type", "standard"},
              {"name", name},
              {"servers", std::move(servers)},
              {"version", kDefaultVersion}};
}

}  // namespace vmcrypt::center
