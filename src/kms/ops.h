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

class CryptoStreams;  // crypto_streams.h

// Decodes a request payload of `Type` in the request's version into `var`;
// a malformed payload fails the item with Invalid Message.
#define VMCRYPT_DECODE(var, Type, payload)                                       \
  auto var##_result = Type::Decode(payload, v_);                                 \
  if (!var##_result.ok()) {                                                      \
    return Fail(ResultReason::kInvalidMessage, var##_result.status().message()); \
  }                                                                              \
  auto& var = *var##_result

// A new random symmetric key of `algorithm` and `length` bits, as Create
// makes it (ops_objects.cc). Feature Not Supported / Invalid Field for what
// the server does not generate.
Result<kmip::ManagedObject> GenerateSymmetricKey(uint32_t algorithm, int64_t length);

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

  // The multi-part Encrypt/Decrypt calls in progress (owned by the engine,
  // outliving this Ops); without them multi-part calls are Feature Not
  // Supported.
  void set_streams(CryptoStreams* streams) { streams_ = streams; }

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
  // Wraps `object`'s Key Block as a Get's Key Wrapping Specification asks
  // (ops_wrap.cc; KMIP 1.4 §2.1.5-§2.1.6).
  Status WrapForGet(const ttlv::Item& spec, kmip::ManagedObject& object);
  // Re-key (ops_rekey.cc; KMIP 1.4 §4.4): a replacement symmetric key; *uid
  // is the replacement's.
  Result<ttlv::Item> ReKey(const ttlv::Item& p, std::string* uid);
  // Cryptographic services: Encrypt (1.4 §4.29) and Decrypt (§4.30), single-
  // and multi-part (ops_cipher.cc); MAC (§4.33), RNG Retrieve (§4.35)
  // (ops_crypto.cc).
  Result<ttlv::Item> Encrypt(const ttlv::Item& p, std::string* uid);
  Result<ttlv::Item> Decrypt(const ttlv::Item& p, std::string* uid);
  Result<ttlv::Item> Mac(const ttlv::Item& p, std::string* uid);
  Result<ttlv::Item> RngRetrieve(const ttlv::Item& p);
  // Asymmetric keys (ops_asym.cc): Create Key Pair (1.4 §4.2), Sign
  // (§4.31), Signature Verify (§4.32). Single-part only.
  Result<ttlv::Item> CreateKeyPair(const ttlv::Item& p, std::string* uid);
  Result<ttlv::Item> Sign(const ttlv::Item& p, std::string* uid);
  Result<ttlv::Item> SignatureVerify(const ttlv::Item& p, std::string* uid);
  // Encrypt / Decrypt with RSA keys (ops_asym.cc): `symmetric` is the answer
  // of the symmetric path, which refuses Public and Private Keys with Feature
  // Not Supported after its state and usage checks; for those keys the
  // request is redone with RSA PKCS#1 v1.5 or OAEP (1.4 §3.6). Any other
  // answer is returned as is.
  Result<ttlv::Item> AsymmetricFallback(Result<ttlv::Item> symmetric, const ttlv::Item& p,
                                        kmip::Operation op, std::string* uid);
  // Derive Key (1.4 §4.6) and Check (§4.10), in ops_derive.cc.
  Result<ttlv::Item> DeriveKey(const ttlv::Item& p, std::string* uid);
  Result<ttlv::Item> Check(const ttlv::Item& p, std::string* uid);

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
  // Loads the request's key for `req.operation` through LoadForUse (state,
  // dates, usage mask), refuses objects other than Symmetric Keys (Feature
  // Not Supported), and charges the request's Data to the key's Usage
  // Limits when it applies protection (ChargeUsage). Sets *uid.
  Result<UsableKey> LoadUsableKey(const kmip::CryptoRequest& req, int32_t usage, std::string* uid);
  // Takes `bytes` (Usage Limits Unit Byte) or, when `new_object`, one object
  // (Unit Object) from the Usage Limits Count of `uid` (1.4 §3.21); Permission
  // Denied when not that much is left. No-op without Usage Limits.
  Status ChargeUsage(const std::string& uid, size_t bytes, bool new_object);
  // The second and later parts of a multi-part Encrypt or Decrypt.
  Result<ttlv::Item> ContinueCipher(const kmip::CryptoRequest& req, kmip::Operation op,
                                    std::string* uid);
  // The object `uid` (or the ID Placeholder) loaded for a cryptographic
  // operation `op` that needs `usage` in its Cryptographic Usage Mask (1.4
  // §3.19) and a state and dates that allow it (§3.22-§3.27): protection
  // (`protect`) needs Active before its Protect Stop Date; processing also
  // allows Deactivated and Compromised after the Process Start Date. Refusals
  // are Permission Denied in 1.x, Wrong Key Lifecycle State / Incompatible
  // Cryptographic Usage Mask in 2.x. Sets *uid. (ops_asym.cc)
  Result<Managed> LoadForUse(const std::optional<std::string>& uid, int32_t usage, bool protect,
                             kmip::Operation op, std::string* out_uid);
  // Encrypt or Decrypt (`op`) with an AES key.
  Result<ttlv::Item> Cipher(const ttlv::Item& p, kmip::Operation op, std::string* uid);
  // Re-key's replacement for `old` (not stored) with its fresh key
  // `material`: attributes per Tables 172-173, linked to `old`.
  // (ops_rekey.cc)
  Result<Managed> ReKeyReplacement(const Managed& old, const kmip::ReKeyRequest& req,
                                   kmip::ManagedObject* material);
  // Common attributes of a new object, with the server-managed ones
  // (SetServerManagedAttributes); `generated` when the server made its key
  // material (not Register).
  Managed NewObject(kmip::ObjectType type, const kmip::AttributeList& client_attrs,
                    bool generated = true);

  store::ObjectStore& store_;
  RootKey& root_key_;
  const EngineOptions& options_;
  const Engine::Clock& clock_;
  const ClientIdentity& client_;
  const kmip::ProtocolVersion v_;
  std::string id_placeholder_;
  CryptoStreams* streams_ = nullptr;
};

}  // namespace vmcrypt::kms::internal

#endif  // VMCRYPT_SRC_KMS_OPS_H_
