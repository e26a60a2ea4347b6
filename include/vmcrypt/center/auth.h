// Users, API tokens, roles and privileges of the control plane (vSphere's
// model: a role is a set of privileges; vsphere-facts.md lists the
// Cryptographer.* family and the "No cryptography administrator" role).
//
// A token is 32 random bytes shown once as "vmc_" + base64url; the store
// keeps only its SHA-256. Every API call authenticates its bearer token and
// checks the privilege the call needs (Authorizer::Check).
//
// Thread-safety: every method may be called from any thread.
#ifndef VMCRYPT_CENTER_AUTH_H_
#define VMCRYPT_CENTER_AUTH_H_

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "vmcrypt/base/status.h"
#include "vmcrypt/center/store.h"

namespace vmcrypt::center {

// Privilege names.
namespace priv {
// The Cryptographer.* family (vSphere names).
inline constexpr std::string_view kCryptoAccess = "Cryptographer.Access";  // see key ids of VMs
inline constexpr std::string_view kCryptoAddDisk = "Cryptographer.AddDisk";
inline constexpr std::string_view kCryptoClone = "Cryptographer.Clone";
inline constexpr std::string_view kCryptoDecrypt = "Cryptographer.Decrypt";
inline constexpr std::string_view kCryptoEncrypt = "Cryptographer.Encrypt";
inline constexpr std::string_view kCryptoEncryptNew = "Cryptographer.EncryptNew";
inline constexpr std::string_view kCryptoManageEncryptionPolicy =
    "Cryptographer.ManageEncryptionPolicy";
inline constexpr std::string_view kCryptoManageKeyServers = "Cryptographer.ManageKeyServers";
inline constexpr std::string_view kCryptoManageKeys = "Cryptographer.ManageKeys";
inline constexpr std::string_view kCryptoMigrate = "Cryptographer.Migrate";
inline constexpr std::string_view kCryptoReadKeyServersInfo = "Cryptographer.ReadKeyServersInfo";
inline constexpr std::string_view kCryptoRecrypt = "Cryptographer.Recrypt";
inline constexpr std::string_view kCryptoRegisterHost = "Cryptographer.RegisterHost";
inline constexpr std::string_view kCryptoRegisterVm = "Cryptographer.RegisterVM";
// Everything else.
inline constexpr std::string_view kSystemView = "System.View";  // tasks, events, alarms, inventory
inline constexpr std::string_view kInventoryManage = "Inventory.Manage";  // clusters, hosts
inline constexpr std::string_view kVmCreate = "VirtualMachine.Create";
inline constexpr std::string_view kVmDelete = "VirtualMachine.Delete";
inline constexpr std::string_view kVmInteract = "VirtualMachine.Interact";        // open, close
inline constexpr std::string_view kVmMigrate = "VirtualMachine.Migrate";          // move
inline constexpr std::string_view kAuthorizationManage = "Authorization.Manage";  // users, roles
}  // namespace priv

// Every privilege above.
const std::vector<std::string>& AllPrivileges();

// Built-in roles: "Admin" (every privilege), "NoCryptoAdmin" (every privilege
// except Cryptographer.*), "ReadOnly" (System.View).
inline constexpr std::string_view kAdminRole = "Admin";
inline constexpr std::string_view kNoCryptoAdminRole = "NoCryptoAdmin";
inline constexpr std::string_view kReadOnlyRole = "ReadOnly";

// Who is calling.
struct Principal {
  std::string user;
  std::string role;
  std::set<std::string, std::less<>> privileges;

  bool Has(std::string_view privilege) const { return privileges.count(privilege) > 0; }
};

class Authorizer {
 public:
  // `store` must outlive the Authorizer.
  explicit Authorizer(CenterStore* store) : store_(store) {}

  // Writes the built-in roles (replacing older definitions of them).
  Status EnsureBuiltinRoles();

  // A custom role; InvalidArgument for an unknown privilege name, and
  // AlreadyExists for a taken name. Built-in roles cannot be replaced.
  Status CreateRole(const std::string& name, const std::vector<std::string>& privileges);
  Result<std::vector<Json>> ListRoles();  // [{"name", "privileges", "builtin"}]

  // Adds a user with `role` and returns its first token (shown once).
  Result<std::string> CreateUser(const std::string& name, const std::string& role);
  // A new token for an existing user (the old ones stay valid).
  Result<std::string> IssueToken(const std::string& user);
  Result<std::vector<Json>> ListUsers();  // [{"name", "role"}]: never tokens or hashes
  Status SetRole(const std::string& user, const std::string& role);
  Status DeleteUser(const std::string& user);

  // Unauthenticated "invalid or missing API token" for an unknown token.
  Result<Principal> Authenticate(std::string_view token);
  // PermissionDenied "user U (role R) lacks privilege P" when missing.
  static Status Check(const Principal& who, std::string_view privilege);

 private:
  CenterStore* store_;
};

}  // namespace vmcrypt::center

#endif  // VMCRYPT_CENTER_AUTH_H_
