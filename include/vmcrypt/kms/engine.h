// kms::Engine: the KMIP operation engine of the key server.
//
// It turns a decoded Request Message into a Response Message for one
// authenticated client: checks the protocol version, runs each batch item
// (honouring Batch Error Continuation Option, KMIP 1.4 §6.13), echoes Unique
// Batch Item IDs, and answers in the request's own protocol version, encoded
// strictly for that version. Objects live in the ObjectStore, their key
// material only ever wrapped by the RootKey, with the object's identifier as
// associated data. A client sees only its tenant's objects; another tenant's
// identifier is Item Not Found.
//
// Thread-safety: Process() may be called concurrently (the store serializes
// writes; lifecycle updates are optimistic and retried).
#ifndef VMCRYPT_KMS_ENGINE_H_
#define VMCRYPT_KMS_ENGINE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "vmcrypt/kmip/message.h"
#include "vmcrypt/kmip/version.h"
#include "vmcrypt/kms/root_key.h"
#include "vmcrypt/store/object_store.h"
#include "vmcrypt/ttlv/item.h"

namespace vmcrypt::kms {

namespace internal {
class CryptoStreams;  // the multi-part Encrypt/Decrypt calls in progress
}  // namespace internal

// Who sent a request: established from the TLS client certificate.
struct ClientIdentity {
  std::string name;  // the registered client's name
  std::string tenant = "default";
  std::string subject;      // certificate subject (for the audit log)
  std::string fingerprint;  // certificate SHA-256 fingerprint
};

struct EngineOptions {
  std::string vendor_identification = "vmcrypt";
  std::string server_name = "vmcrypt kms";
  // Newest protocol version spoken (Discover Versions lists it and older).
  kmip::ProtocolVersion max_version = kmip::kKmip21;
};

// What one batch item did, for the audit log.
struct OperationRecord {
  kmip::Operation operation = kmip::Operation::kDiscoverVersions;
  std::string uid;
  kmip::ResultStatus status = kmip::ResultStatus::kSuccess;
  std::optional<kmip::ResultReason> reason;
};

class Engine {
 public:
  using Clock = std::function<int64_t()>;  // seconds since the epoch

  // `store` and `root_key` must outlive the engine.
  Engine(store::ObjectStore* store, RootKey* root_key, EngineOptions options, Clock clock = {});

  // Processes one request (a decoded TTLV tree) and returns the response
  // tree; never fails: problems become KMIP error responses. `records`, when
  // given, receives one entry per batch item.
  ttlv::Item Process(const ClientIdentity& client, const ttlv::Item& request,
                     std::vector<OperationRecord>* records = nullptr);

  // Whether a batch item of `request` runs an operation that commits to the
  // store (Create, Register, Activate, Add Attribute, Destroy, ...), and so
  // waits for a durable write. Get may write too (Fresh turns false the
  // first time, 1.4 §3.34) but is not counted.
  static bool Writes(const ttlv::Item& request);

  // The response to a message that could not be decoded at all (KMIP 1.4
  // §11: Invalid Message), in `version` when the header was readable.
  ttlv::Item InvalidMessage(std::optional<kmip::ProtocolVersion> version,
                            const std::string& message);

 private:
  class Ops;
  store::ObjectStore* store_;
  RootKey* root_key_;
  EngineOptions options_;
  Clock clock_;
  std::shared_ptr<internal::CryptoStreams> streams_;  // shared by all connections
};

}  // namespace vmcrypt::kms

#endif  // VMCRYPT_KMS_ENGINE_H_
