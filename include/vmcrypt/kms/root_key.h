// The root key (CRK) of the key server: every key object the KMS stores is
// wrapped by it (ARCHITECTURE.md, key hierarchy; seed 004 "keys within
// keys"). It is an interface so that a PKCS#11 HSM can hold it; the software
// implementation keeps it in a 0600 file for the embedded default.
//
// Wrap() seals key material with AES-256-GCM under the root key, binding the
// caller's associated data (the object's identifier) so that a wrapped blob
// cannot be moved to another object. Blobs record nothing of the key; the
// caller stores the root key's version next to the blob so that a rotation
// can re-wrap later.
#ifndef VMCRYPT_KMS_ROOT_KEY_H_
#define VMCRYPT_KMS_ROOT_KEY_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "vmcrypt/base/secret_bytes.h"
#include "vmcrypt/base/status.h"

namespace vmcrypt::kms {

struct WrappedKey {
  uint32_t root_key_version = 0;
  std::vector<uint8_t> blob;
};

class RootKey {
 public:
  virtual ~RootKey() = default;
  // The version new wraps use.
  virtual uint32_t version() const = 0;
  // A human description for logs ("software root key v1 (/etc/kms/root.key)").
  virtual std::string Describe() const = 0;
  virtual Result<WrappedKey> Wrap(const SecretBytes& key, std::span<const uint8_t> aad) = 0;
  // Fails with DataLoss if the blob was altered or belongs to other `aad`,
  // and with NotFound if the version is not available.
  virtual Result<SecretBytes> Unwrap(const WrappedKey& wrapped, std::span<const uint8_t> aad) = 0;
};

// A root key held in a file ("version=N" and "key=<base64 of 32 bytes>"
// lines) that must have mode 0600. Thread-safe.
class SoftwareRootKey : public RootKey {
 public:
  // Creates a new random 256-bit root key file at `path` (mode 0600); fails
  // if the file exists.
  static Status Generate(const std::string& path, uint32_t version = 1);
  static Result<std::unique_ptr<SoftwareRootKey>> Load(const std::string& path);

  uint32_t version() const override { return version_; }
  std::string Describe() const override;
  Result<WrappedKey> Wrap(const SecretBytes& key, std::span<const uint8_t> aad) override;
  Result<SecretBytes> Unwrap(const WrappedKey& wrapped, std::span<const uint8_t> aad) override;

 private:
  SoftwareRootKey(std::string path, uint32_t version, SecretBytes key);
  std::vector<uint8_t> Aad(uint32_t version, std::span<const uint8_t> aad) const;

  std::string path_;
  uint32_t version_;
  SecretBytes key_;
};

}  // namespace vmcrypt::kms

#endif  // VMCRYPT_KMS_ROOT_KEY_H_
