// Public and Private Key objects (KMIP 1.4 §2.2.3, §2.2.4) and OpenSSL keys:
// parsing a Key Block into an EVP_PKEY, encoding an EVP_PKEY in a Key Format
// Type, and the hooks Register and Get use. Internal to kms.
//
// Key Format Types handled (1.4 §9.1.3.2.3):
//   RSA private: PKCS#1 (RSAPrivateKey), PKCS#8, Transparent RSA Private Key
//   RSA public:  PKCS#1 (RSAPublicKey), X.509 (SubjectPublicKeyInfo),
//                Transparent RSA Public Key
//   EC private:  PKCS#8, EC Private Key (RFC 5915)
//   EC public:   X.509 (SubjectPublicKeyInfo)
// Anything else is Key Format Type Not Supported. Private key bytes are only
// ever held in SecretBytes or a ttlv::Item (both zeroised), and OpenSSL's
// encoder output is cleansed before it is freed.
//
// Thread-safety: free functions without shared state.
#ifndef VMCRYPT_SRC_KMS_ASYM_KEYS_H_
#define VMCRYPT_SRC_KMS_ASYM_KEYS_H_

#include <cstdint>
#include <string>

#include "vmcrypt/base/status.h"
#include "vmcrypt/crypto/openssl.h"
#include "vmcrypt/kmip/attribute.h"
#include "vmcrypt/kmip/object.h"

namespace vmcrypt::kms::internal {

// Recommended Curve values (1.4 §9.1.3.2.5) this server generates and uses.
inline constexpr uint32_t kCurveP256 = 0x07;
inline constexpr uint32_t kCurveP384 = 0x0A;
inline constexpr uint32_t kCurveP521 = 0x0D;

bool IsAsymmetricKey(kmip::ObjectType type);
// True for the Cryptographic Algorithms this file treats as elliptic-curve
// keys: EC, ECDSA, ECDH, ECMQV.
bool IsEcAlgorithm(uint32_t algorithm);

// The OpenSSL key held by a Public Key or Private Key object. Wrapped keys
// and unknown formats are Key Format Type Not Supported; bytes that do not
// parse in the stated format are Invalid Field.
Result<crypto::EvpPkeyPtr> ParseKey(const kmip::ManagedObject& object);

// `pkey` as an object of `type` (Public Key or Private Key) in `format`, with
// the Key Block's Cryptographic Algorithm `algorithm` and its length in bits.
// A format that does not fit the key is Key Format Type Not Supported.
Result<kmip::ManagedObject> EncodeKey(EVP_PKEY* pkey, kmip::ObjectType type, uint32_t format,
                                      uint32_t algorithm);

// The format a new key of this kind is stored in: PKCS#1 for RSA, PKCS#8
// (private) and X.509 (public) for EC.
uint32_t DefaultFormat(EVP_PKEY* pkey, kmip::ObjectType type);

// Register hook (1.4 §4.3): checks that a Public or Private Key parses and is
// the algorithm its Key Block states; fills in the Key Block's Cryptographic
// Algorithm and Length when absent (§2.1.3: they "MAY be omitted only if
// this information is available from the Key Value"), and adds both
// attributes to `attrs` unless the client gave them. Wrapped keys are
// accepted unchecked.
Status CheckRegisteredKey(kmip::ManagedObject& object, kmip::AttributeList& attrs);

// Get hook (1.4 §4.11 Key Format Type): re-encodes a Public or Private Key
// object in `format` in place; Key Format Type Not Supported when it cannot.
Status ConvertKeyFormat(kmip::ManagedObject& object, uint32_t format);

}  // namespace vmcrypt::kms::internal

#endif  // VMCRYPT_SRC_KMS_ASYM_KEYS_H_
