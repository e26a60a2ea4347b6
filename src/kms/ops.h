// The handlers of the KMIP operations, for one request message. Internal to
// kms; used by Engine::Process.
#ifndef VMCRYPT_SRC_KMS_OPS_H_
#define VMCRYPT_SRC_KMS_OPS_H_

#include <optional>
#include <string>

#include "src/kms/managed.h"
#include "vmcrypt/kmip/payloads.h"
#include "vmcrypt/kms/engine.h"

namespace vmcrypt::kms::internal {

// Decodes a request payload of `Type` in the request's version into `var`;
// a malformed payload fails the item with Invalid Message.
#define VMCRYPT_DECODE(var, Type, payload)                                       \
  auto var##_result = Type::Decode(payload, v_);                                 \
  if (!var##_result.ok()) {                                                      \
    return Fail(ResultReason::kInvalidMessage, var##_result.status().message()); \
  }                                                                              \
  auto& var = *var##_result

class Ops {
 public:
  Ops(store::ObjectStore& store, RootKey& root_key, const EngineOptions& options,
      const Engine::Clock& clock, const ClientIdentity& client, kmip::ProtocolVersion v)
      : store_(store),
        root_key_(root_key),
        options_(options),
        clock_(clock),
        client_(client),
        v_(v) {}

  // Runs one batch item; sets *uid to the object it concerned, if any.
  Result<ttlv::Item> Run(kmip::Operation op, const ttlv::Item& payload, std::string* uid);

 private:
  Result<ttlv::Item> DiscoverVersions(const ttlv::Item& p);
  Result<ttlv::Item> Query(const ttlv::Item& p);
  Result<ttlv::Item> Create(const ttlv::Item& p, std::string* uid);
  Result<ttlv::Item> Register(const ttlv::Item& p, std::string* uid);
  Result<ttlv::Item> Get(const ttlv::Item& p, std::string* uid);
  Result<ttlv::Item> GetAttributes(const ttlv::Item& p, std::string* uid);
  Result<ttlv::Item> GetAttributeList(const ttlv::Item& p, std::string* uid);
  Result<ttlv::Item> AddAttribute(const ttlv::Item& p, std::string* uid);
  Result<ttlv::Item> ModifyAttribute(const ttlv::Item& p, std::string* uid);
  Result<ttlv::Item> DeleteAttribute(const ttlv::Item& p, std::string* uid);
  Result<ttlv::Item> SetAttribute(const ttlv::Item& p, std::string* uid);
  Result<ttlv::Item> Locate(const ttlv::Item& p);
  Result<ttlv::Item> Activate(const ttlv::Item& p, std::string* uid);
  Result<ttlv::Item> Revoke(const ttlv::Item& p, std::string* uid);
  Result<ttlv::Item> Destroy(const ttlv::Item& p, std::string* uid);
  // Cryptographic services (ops_crypto.cc): Encrypt (1.4 §4.29), Decrypt
  // (§4.30), MAC (§4.33), RNG Retrieve (§4.35). Single-part only.
  Result<ttlv::Item> Encrypt(const ttlv::Item& p, std::string* uid);
  Result<ttlv::Item> Decrypt(const ttlv::Item& p, std::string* uid);
  Result<ttlv::Item> Mac(const ttlv::Item& p, std::string* uid);
  Result<ttlv::Item> RngRetrieve(const ttlv::Item& p);

  // The request's uid, or the ID Placeholder (KMIP 1.4 §2.1.1 / §3.1) when
  // absent; Missing Data if neither.
  Result<std::string> Target(const std::optional<std::string>& uid);
  // Loads, applies `change`, writes back; retried on a concurrent update.
  Result<Managed> Modify(const std::string& uid, const std::function<Status(Managed&)>& change);
  // Attributes a client may not set (server-managed, KMIP 1.4 §3 tables).
  Status CheckClientSettable(const kmip::Attribute& a, bool on_create);
  // A key ready for a cryptographic operation: its bytes, its Cryptographic
  // Algorithm, and the Cryptographic Parameters to apply (the request's, else
  // the key's own attribute).
  struct UsableKey {
    SecretBytes key;
    uint32_t algorithm = 0;
    std::optional<ttlv::Item> params;
  };
  // Loads the request's key for `req.operation`: refuses multi-part requests
  // (Feature Not Supported), objects other than Symmetric Keys (Feature Not
  // Supported), objects that are not Active or lack `usage` in their
  // Cryptographic Usage Mask (Permission Denied). Sets *uid.
  Result<UsableKey> LoadUsableKey(const kmip::CryptoRequest& req, int32_t usage, std::string* uid);
  // Encrypt or Decrypt (`op`) with an AES key.
  Result<ttlv::Item> Cipher(const ttlv::Item& p, kmip::Operation op, std::string* uid);
  // Common attributes of a new object.
  Managed NewObject(kmip::ObjectType type, const kmip::AttributeList& client_attrs);

  store::ObjectStore& store_;
  RootKey& root_key_;
  const EngineOptions& options_;
  const Engine::Clock& clock_;
  const ClientIdentity& client_;
  const kmip::ProtocolVersion v_;
  std::string id_placeholder_;
};

}  // namespace vmcrypt::kms::internal

#endif  // VMCRYPT_SRC_KMS_OPS_H_
