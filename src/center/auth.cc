// Users, tokens and roles on top of CenterStore.
//
// Layout:
//   users/<name>   {"name", "role", "tokens": [{"sha256": HEX, "created": RFC3339}]}
//   tokens/<HEX>   {"user": NAME}   index: token hash -> user, so that
//                                   Authenticate is one key lookup, not a scan
//   roles/<name>   {"name", "privileges": [...], "builtin": bool}
//
// The user document is the source of truth; the token index is a hint that
// Authenticate confirms against it. Writes are ordered so that a crash
// between two of them can only leave an index entry that no longer
// authenticates, never a token that works without its user document.
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <ctime>

#include "vmcrypt/base/encoding.h"
#include "vmcrypt/center/auth.h"
#include "vmcrypt/crypto/random.h"

namespace vmcrypt::center {
namespace {

constexpr std::string_view kUsers = "users";
constexpr std::string_view kTokens = "tokens";
constexpr std::string_view kRoles = "roles";
constexpr std::string_view kTokenPrefix = "vmc_";
constexpr size_t kTokenRandomBytes = 32;
constexpr size_t kMaxNameLength = 64;
constexpr const char* kUnauthenticated = "invalid or missing API token";

// [A-Za-z0-9._@-]{1,64}
Status CheckName(std::string_view kind, const std::string& name) {
  const bool ok = !name.empty() && name.size() <= kMaxNameLength &&
                  std::all_of(name.begin(), name.end(), [](char c) {
                    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                           (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '@' || c == '-';
                  });
  if (ok) return OkStatus();
  return InvalidArgumentError(std::string(kind) +
                              " names are 1 to 64 characters from A-Z a-z 0-9 . _ @ -");
}

bool IsBuiltinRole(std::string_view name) {
  return name == kAdminRole || name == kNoCryptoAdminRole || name == kReadOnlyRole;
}

bool IsKnownPrivilege(std::string_view name) {
  const std::vector<std::string>& all = AllPrivileges();
  return std::find(all.begin(), all.end(), name) != all.end();
}

std::string Base64UrlNoPad(std::span<const uint8_t> data) {
  std::string s = Base64Encode(data);
  while (!s.empty() && s.back() == '=') s.pop_back();
  for (char& c : s) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return s;
}

Result<std::array<uint8_t, 32>> Sha256(std::string_view data) {
  std::array<uint8_t, 32> digest{};
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), digest.data(), &size, EVP_sha256(), nullptr) != 1 ||
      size != digest.size()) {
    return InternalError("SHA-256 failed");
  }
  return digest;
}

Result<std::string> TokenHash(std::string_view token) {
  ASSIGN_OR_RETURN(auto digest, Sha256(token));
  return HexEncode(digest);
}

std::string NowRfc3339() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// `doc[key]` if it is a string, else "" (value() would throw on a wrong type).
std::string StringField(const Json& doc, std::string_view key) {
  if (!doc.is_object()) return {};
  auto it = doc.find(key);
  return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// A fresh token and its hash. The token is returned to the caller once and
// never stored.
struct NewToken {
  std::string text;
  std::string sha256;
};

Result<NewToken> MakeToken() {
  ASSIGN_OR_RETURN(SecretBytes random, crypto::RandomSecret(kTokenRandomBytes));
  NewToken t;
  t.text = std::string(kTokenPrefix) + Base64UrlNoPad(random.span());
  ASSIGN_OR_RETURN(t.sha256, TokenHash(t.text));
  return t;
}

Json TokenEntry(const NewToken& t) { return Json{{"sha256", t.sha256}, {"created", NowRfc3339()}}; }

// Maps the store's "no roles X" to a message about the role.
Result<Json> GetRole(CenterStore* store, const std::string& name) {
  Result<Json> role = store->Get(kRoles, name);
  if (!role.ok() && role.status().code() == StatusCode::kNotFound) {
    return NotFoundError("no role " + name);
  }
  return role;
}

Status RequireRole(CenterStore* store, const std::string& name) {
  RETURN_IF_ERROR(CheckName("role", name));
  return GetRole(store, name).status();
}

Status UserNotFound(const Status& st, const std::string& user) {
  if (st.code() == StatusCode::kNotFound) return NotFoundError("no user " + user);
  return st;
}

// Whether `user_doc` lists a token with hash `hex`, compared in constant time
// (the hashes are equal length: both are hex SHA-256).
bool HasTokenHash(const Json& user_doc, const std::string& hex) {
  auto it = user_doc.find("tokens");
  if (it == user_doc.end() || !it->is_array()) return false;
  bool found = false;
  for (const Json& entry : *it) {
    auto h = entry.find("sha256");
    if (h == entry.end() || !h->is_string()) continue;
    const std::string& stored = h->get_ref<const std::string&>();
    if (stored.size() == hex.size() && CRYPTO_memcmp(stored.data(), hex.data(), hex.size()) == 0) {
      found = true;
    }
  }
  return found;
}

std::vector<std::string> PrivilegesOf(std::string_view role) {
  const std::vector<std::string>& all = AllPrivileges();
  if (role == kAdminRole) return all;
  if (role == kReadOnlyRole) return {std::string(priv::kSystemView)};
  std::vector<std::string> out;
  for (const std::string& p : all) {
    if (!p.starts_with("Cryptographer.")) out.push_back(p);
  }
  return out;
}

}  // namespace

const std::vector<std::string>& AllPrivileges() {
  static const std::vector<std::string> kAll = {
      std::string(priv::kCryptoAccess),
      std::string(priv::kCryptoAddDisk),
      std::string(priv::kCryptoClone),
      std::string(priv::kCryptoDecrypt),
      std::string(priv::kCryptoEncrypt),
      std::string(priv::kCryptoEncryptNew),
      std::string(priv::kCryptoManageEncryptionPolicy),
      std::string(priv::kCryptoManageKeyServers),
      std::string(priv::kCryptoManageKeys),
      std::string(priv::kCryptoMigrate),
      std::string(priv::kCryptoReadKeyServersInfo),
      std::string(priv::kCryptoRecrypt),
      std::string(priv::kCryptoRegisterHost),
      std::string(priv::kCryptoRegisterVm),
      std::string(priv::kSystemView),
      std::string(priv::kInventoryManage),
      std::string(priv::kVmCreate),
      std::string(priv::kVmDelete),
      std::string(priv::kVmInteract),
      std::string(priv::kVmMigrate),
      std::string(priv::kAuthorizationManage),
  };
  return kAll;
}

Status Authorizer::EnsureBuiltinRoles() {
  for (std::string_view name : {kAdminRole, kNoCryptoAdminRole, kReadOnlyRole}) {
    Json role = {{"name", name}, {"privileges", PrivilegesOf(name)}, {"builtin", true}};
    RETURN_IF_ERROR(store_->Put(kRoles, name, role));
  }
  return OkStatus();
}

Status Authorizer::CreateRole(const std::string& name, const std::vector<std::string>& privileges) {
  RETURN_IF_ERROR(CheckName("role", name));
  if (IsBuiltinRole(name)) {
    return AlreadyExistsError("role " + name + " is built in and cannot be replaced");
  }
  for (const std::string& p : privileges) {
    if (!IsKnownPrivilege(p)) return InvalidArgumentError("unknown privilege \"" + p + "\"");
  }
  // Sorted and without duplicates, so that a role reads the same however it
  // was written.
  std::vector<std::string> sorted = privileges;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  Json role = {{"name", name}, {"privileges", sorted}, {"builtin", false}};
  Status st = store_->Insert(kRoles, name, role);
  if (st.code() == StatusCode::kAlreadyExists) {
    return AlreadyExistsError("role " + name + " already exists");
  }
  return st;
}

Result<std::vector<Json>> Authorizer::ListRoles() { return store_->List(kRoles); }

Result<std::string> Authorizer::CreateUser(const std::string& name, const std::string& role) {
  RETURN_IF_ERROR(CheckName("user", name));
  RETURN_IF_ERROR(RequireRole(store_, role));
  ASSIGN_OR_RETURN(NewToken token, MakeToken());
  Json user = {{"name", name}, {"role", role}, {"tokens", Json::array({TokenEntry(token)})}};
  // User first, index second: see the file comment.
  Status st = store_->Insert(kUsers, name, user);
  if (st.code() == StatusCode::kAlreadyExists) {
    return AlreadyExistsError("user " + name + " already exists");
  }
  RETURN_IF_ERROR(st);
  RETURN_IF_ERROR(store_->Put(kTokens, token.sha256, Json{{"user", name}}));
  return std::move(token.text);
}

Result<std::string> Authorizer::IssueToken(const std::string& user) {
  RETURN_IF_ERROR(CheckName("user", user));
  ASSIGN_OR_RETURN(NewToken token, MakeToken());
  Result<Json> updated = store_->Update(kUsers, user, [&](Json& doc) -> Status {
    if (!doc["tokens"].is_array()) doc["tokens"] = Json::array();
    doc["tokens"].push_back(TokenEntry(token));
    return OkStatus();
  });
  if (!updated.ok()) return UserNotFound(updated.status(), user);
  RETURN_IF_ERROR(store_->Put(kTokens, token.sha256, Json{{"user", user}}));
  return std::move(token.text);
}

Result<std::vector<Json>> Authorizer::ListUsers() {
  ASSIGN_OR_RETURN(std::vector<Json> docs, store_->List(kUsers));
  std::vector<Json> users;
  users.reserve(docs.size());
  for (const Json& doc : docs) {
    users.push_back(Json{{"name", StringField(doc, "name")}, {"role", StringField(doc, "role")}});
  }
  return users;
}

Status Authorizer::SetRole(const std::string& user, const std::string& role) {
  RETURN_IF_ERROR(CheckName("user", user));
  RETURN_IF_ERROR(RequireRole(store_, role));
  Result<Json> updated = store_->Update(kUsers, user, [&](Json& doc) -> Status {
    doc["role"] = role;
    return OkStatus();
  });
  return updated.ok() ? OkStatus() : UserNotFound(updated.status(), user);
}

Status Authorizer::DeleteUser(const std::string& user) {
  RETURN_IF_ERROR(CheckName("user", user));
  Result<Json> doc = store_->Get(kUsers, user);
  if (!doc.ok()) return UserNotFound(doc.status(), user);
  // The user document goes first: from then on none of its tokens
  // authenticates, even if removing the index entries below fails.
  Status deleted = store_->Delete(kUsers, user);
  if (!deleted.ok()) return UserNotFound(deleted, user);
  auto tokens = doc->find("tokens");
  if (tokens == doc->end() || !tokens->is_array()) return OkStatus();
  for (const Json& entry : *tokens) {
    auto h = entry.find("sha256");
    if (h == entry.end() || !h->is_string()) continue;
    Status st = store_->Delete(kTokens, h->get<std::string>());
    if (!st.ok() && st.code() != StatusCode::kNotFound) return st;
  }
  return OkStatus();
}

Result<Principal> Authorizer::Authenticate(std::string_view token) {
  // One message for every failure, so a caller learns nothing about which
  // part of a token was wrong.
  if (!token.starts_with(kTokenPrefix) || token.size() > 256) {
    return UnauthenticatedError(kUnauthenticated);
  }
  ASSIGN_OR_RETURN(std::string hash, TokenHash(token));
  Result<Json> index = store_->Get(kTokens, hash);
  if (!index.ok()) {
    if (index.status().code() == StatusCode::kNotFound) {
      return UnauthenticatedError(kUnauthenticated);
    }
    return index.status();
  }
  const std::string user = StringField(*index, "user");
  if (user.empty()) return UnauthenticatedError(kUnauthenticated);
  Result<Json> doc = store_->Get(kUsers, user);
  if (!doc.ok()) {
    if (doc.status().code() == StatusCode::kNotFound) {
      return UnauthenticatedError(kUnauthenticated);
    }
    return doc.status();
  }
  // The index is a hint: the token counts only if the user still lists it.
  if (!HasTokenHash(*doc, hash)) return UnauthenticatedError(kUnauthenticated);

  Principal who;
  who.user = user;
  who.role = StringField(*doc, "role");
  Result<Json> role = GetRole(store_, who.role);
  if (!role.ok()) {
    if (role.status().code() == StatusCode::kNotFound) {
      return PermissionDeniedError("user " + user + " has role " + who.role +
                                   ", which does not exist");
    }
    return role.status();
  }
  auto privileges = role->find("privileges");
  if (privileges != role->end() && privileges->is_array()) {
    for (const Json& p : *privileges) {
      if (p.is_string()) who.privileges.insert(p.get<std::string>());
    }
  }
  return who;
}

Status Authorizer::Check(const Principal& who, std::string_view privilege) {
  if (who.Has(privilege)) return OkStatus();
  return PermissionDeniedError("user " + who.user + " (role " + who.role + ") lacks privilege " +
                               std::string(privilege));
}

}  // namespace vmcrypt::center
