// Native key providers (key_provider.h): a key derivation key (KDK) made by
// center and sealed under center's root key; hosts derive per-VM KEKs from
// it, so center only hands out key ids.
//
// The backup is a PKCS#12 file (RFC 7292) with one password-encrypted safe
// (PBES2: PBKDF2-HMAC-SHA256 + AES-256-CBC, RFC 8018) holding two secret
// bags (RFC 7292 §4.2.5), told apart by their friendlyName: the KDK, and a
// JSON description of the provider. The file has a SHA-256 MAC under the
// same password. `openssl pkcs12 -info` reads it.
#include <openssl/err.h>
#include <openssl/pkcs12.h>

#include <memory>

#include "src/center/provider_internal.h"
#include "vmcrypt/base/encoding.h"
#include "vmcrypt/center/key_provider.h"
#include "vmcrypt/crypto/openssl.h"
#include "vmcrypt/crypto/random.h"

namespace vmcrypt::center {
namespace {

constexpr size_t kKdkSize = 32;
constexpr char kAadPrefix[] = "vmcrypt-native-kdk|";
// friendlyName of the two secret bags, and the description's format tag.
constexpr char kKdkBagName[] = "vmcrypt native key provider KDK";
constexpr char kDescriptionBagName[] = "vmcrypt native key provider";
constexpr char kFormat[] = "vmcrypt-native-provider-1";
// PBKDF2 and MAC iterations: well above OpenSSL's 2048 default, still fast
// enough (about 0.1 s) for an interactive export.
constexpr int kIterations = 200000;
constexpr char kBadBackup[] = "wrong password or not a vmcrypt native key provider backup";

struct SafeStackFree {
  void operator()(STACK_OF(PKCS7) * s) const { sk_PKCS7_pop_free(s, PKCS7_free); }
};
struct BagStackFree {
  void operator()(STACK_OF(PKCS12_SAFEBAG) * s) const {
    sk_PKCS12_SAFEBAG_pop_free(s, PKCS12_SAFEBAG_free);
  }
};
using SafeStackPtr = std::unique_ptr<STACK_OF(PKCS7), SafeStackFree>;
using BagStackPtr = std::unique_ptr<STACK_OF(PKCS12_SAFEBAG), BagStackFree>;
using Pkcs12Ptr = std::unique_ptr<PKCS12, crypto::OpenSslDeleter<PKCS12_free>>;
using BagPtr = std::unique_ptr<PKCS12_SAFEBAG, crypto::OpenSslDeleter<PKCS12_SAFEBAG_free>>;

std::vector<uint8_t> Aad(const std::string& name) {
  const std::string aad = kAadPrefix + name;
  return std::vector<uint8_t>(aad.begin(), aad.end());
}

std::string NotBackedUp(const std::string& name) {
  return "native key provider " + name + " is not backed up; export it first";
}

Result<std::string> ProviderName(const Json& doc) {
  if (!doc.is_object()) return InvalidArgumentError("a key provider document must be an object");
  ASSIGN_OR_RETURN(std::string name, internal::JsonString(doc, "name", true));
  if (name.empty()) return InvalidArgumentError("a key provider needs a name");
  return name;
}

bool JsonBool(const Json& doc, const char* key) {
  auto it = doc.find(key);
  return it != doc.end() && it->is_boolean() && it->get<bool>();
}

// The document's "kdk" member with the given KDK sealed for provider `name`.
Result<Json> SealKdk(const SecretBytes& kdk, const std::string& name, kms::RootKey* root_key) {
  if (root_key == nullptr) return InvalidArgumentError("no root key to seal the KDK with");
  ASSIGN_OR_RETURN(kms::WrappedKey sealed, root_key->Wrap(kdk, Aad(name)));
  return Json{{"root_key_version", sealed.root_key_version}, {"blob", Base64Encode(sealed.blob)}};
}

Json NativeDoc(const std::string& name, bool tpm_required, bool backed_up, Json kdk) {
  return Json{{"type", "native"},
              {"name", name},
              {"tpm_required", tpm_required},
              {"backed_up", backed_up},
              {"kdk", std::move(kdk)}};
}

// A secret bag holding `value` as an OCTET STRING, typed id-data (its bytes
// are opaque), named `friendly_name`.
Status AddSecretBag(STACK_OF(PKCS12_SAFEBAG) * bags, std::span<const uint8_t> value,
                    const char* friendly_name) {
  BagPtr bag(PKCS12_SAFEBAG_create_secret(NID_pkcs7_data, V_ASN1_OCTET_STRING, value.data(),
                                          static_cast<int>(value.size())));
  if (!bag || PKCS12_add_friendlyname_utf8(bag.get(), friendly_name, -1) != 1) {
    return InternalError("cannot make a PKCS#12 secret bag: " + crypto::OpenSslErrorString());
  }
  if (sk_PKCS12_SAFEBAG_push(bags, bag.get()) <= 0) return InternalError("out of memory");
  bag.release();  // owned by `bags` now
  return OkStatus();
}

// The OCTET STRING of a secret bag, or null when the bag is of another kind.
const ASN1_OCTET_STRING* SecretBagValue(const PKCS12_SAFEBAG* bag) {
  if (PKCS12_SAFEBAG_get_nid(bag) != NID_secretBag) return nullptr;
  const ASN1_TYPE* value = PKCS12_SAFEBAG_get0_bag_obj(bag);
  if (value == nullptr || value->type != V_ASN1_OCTET_STRING) return nullptr;
  return value->value.octet_string;
}

// Collects the KDK and description bags of one safe.
void ReadBags(STACK_OF(PKCS12_SAFEBAG) * bags, SecretBytes* kdk, std::string* description) {
  for (int i = 0; i < sk_PKCS12_SAFEBAG_num(bags); ++i) {
    PKCS12_SAFEBAG* bag = sk_PKCS12_SAFEBAG_value(bags, i);
    const ASN1_OCTET_STRING* value = SecretBagValue(bag);
    if (value == nullptr) continue;
    char* raw_name = PKCS12_get_friendlyname(bag);
    const std::string friendly = raw_name != nullptr ? raw_name : "";
    OPENSSL_free(raw_name);
    std::span<const uint8_t> bytes(ASN1_STRING_get0_data(value),
                                   static_cast<size_t>(ASN1_STRING_length(value)));
    if (friendly == kKdkBagName) {
      *kdk = SecretBytes(bytes);
    } else if (friendly == kDescriptionBagName) {
      description->assign(bytes.begin(), bytes.end());
    }
  }
}

class NativeProvider : public KeyProvider {
 public:
  NativeProvider(std::string name, Json doc, kms::RootKey* root_key)
      : name_(std::move(name)), doc_(std::move(doc)), root_key_(root_key) {}

  const std::string& name() const override { return name_; }
  std::string type() const override { return "native"; }

  Result<std::string> CreateKey() override {
    if (!JsonBool(doc_, "backed_up")) return FailedPreconditionError(NotBackedUp(name_));
    // A UUID version 4 (RFC 9562 §5.4).
    uint8_t b[16];
    RETURN_IF_ERROR(crypto::RandomBytes(b));
    b[6] = static_cast<uint8_t>((b[6] & 0x0f) | 0x40);
    b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);
    const std::string hex = HexEncode(b);
    return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
           hex.substr(16, 4) + "-" + hex.substr(20, 12);
  }

  Result<SecretBytes> GetKey(const std::string&) override {
    return UnimplementedError("native key provider " + name_ +
                              " hands out no keys: hosts derive them from its KDK");
  }

  Status TagKey(const std::string&, const KeyTag&) override { return OkStatus(); }

  KeyCheck CheckKey(const std::string&) override {
    if (!JsonBool(doc_, "backed_up")) return {KeyState::kUnusable, NotBackedUp(name_)};
    Result<SecretBytes> kdk = NativeKdk(doc_, root_key_);
    if (!kdk.ok()) {
      return {KeyState::kUnusable, "the KDK of native key provider " + name_ +
                                       " cannot be unsealed: " + kdk.status().message()};
    }
    return {KeyState::kAvailable, ""};
  }

 private:
  const std::string name_;
  const Json doc_;
  kms::RootKey* const root_key_;
};

}  // namespace

namespace internal {

Result<std::unique_ptr<KeyProvider>> MakeNativeProvider(const Json& doc,
                                                        const ProviderContext& ctx) {
  ASSIGN_OR_RETURN(std::string name, ProviderName(doc));
  if (ctx.root_key == nullptr) {
    return InvalidArgumentError("native key provider " + name + " needs center's root key");
  }
  return std::unique_ptr<KeyProvider>(
      std::make_unique<NativeProvider>(std::move(name), doc, ctx.root_key));
}

}  // namespace internal

Result<Json> NewNativeProvider(const std::string& name, bool tpm_required, kms::RootKey* root_key) {
  if (name.empty()) return InvalidArgumentError("a key provider needs a name");
  ASSIGN_OR_RETURN(SecretBytes kdk, crypto::RandomSecret(kKdkSize));
  ASSIGN_OR_RETURN(Json sealed, SealKdk(kdk, name, root_key));
  return NativeDoc(name, tpm_required, /*backed_up=*/false, std::move(sealed));
}

Result<SecretBytes> NativeKdk(const Json& doc, kms::RootKey* root_key) {
  ASSIGN_OR_RETURN(std::string name, ProviderName(doc));
  if (root_key == nullptr) return InvalidArgumentError("no root key to unseal the KDK with");
  auto kdk = doc.find("kdk");
  if (kdk == doc.end() || !kdk->is_object()) {
    return InvalidArgumentError("native key provider " + name + " has no sealed KDK");
  }
  auto version = kdk->find("root_key_version");
  if (version == kdk->end() || !version->is_number_unsigned()) {
    return InvalidArgumentError("native key provider " + name + ": bad kdk.root_key_version");
  }
  ASSIGN_OR_RETURN(std::string blob_text, internal::JsonString(*kdk, "blob", true));
  ASSIGN_OR_RETURN(std::vector<uint8_t> blob, Base64Decode(blob_text));
  kms::WrappedKey wrapped{version->get<uint32_t>(), std::move(blob)};
  ASSIGN_OR_RETURN(SecretBytes key, root_key->Unwrap(wrapped, Aad(name)));
  if (key.size() != kKdkSize) {
    return DataLossError("the KDK of native key provider " + name + " has the wrong size");
  }
  return key;
}

Result<std::vector<uint8_t>> ExportNativeProvider(Json& doc, kms::RootKey* root_key,
                                                  const std::string& password) {
  if (password.empty()) return InvalidArgumentError("the backup password must not be empty");
  ASSIGN_OR_RETURN(std::string name, ProviderName(doc));
  ASSIGN_OR_RETURN(SecretBytes kdk, NativeKdk(doc, root_key));
  const std::string description =
      Json{{"format", kFormat}, {"name", name}, {"tpm_required", JsonBool(doc, "tpm_required")}}
          .dump();

  BagStackPtr bags(sk_PKCS12_SAFEBAG_new_null());
  if (!bags) return InternalError("out of memory");
  RETURN_IF_ERROR(AddSecretBag(bags.get(), kdk.span(), kKdkBagName));
  RETURN_IF_ERROR(AddSecretBag(bags.get(), AsBytes(description), kDescriptionBagName));

  // One encrypted safe; a cipher NID (not a PKCS#12 PBE NID) selects PBES2
  // with PBKDF2-HMAC-SHA256 (OpenSSL 3 default PRF).
  STACK_OF(PKCS7)* raw_safes = nullptr;
  const int added =
      PKCS12_add_safe(&raw_safes, bags.get(), NID_aes_256_cbc, kIterations, password.c_str());
  SafeStackPtr safes(raw_safes);
  if (added != 1) {
    return InternalError("cannot encrypt the backup: " + crypto::OpenSslErrorString());
  }
  Pkcs12Ptr p12(PKCS12_add_safes(safes.get(), NID_pkcs7_data));
  if (!p12 ||
      PKCS12_set_mac(p12.get(), password.c_str(), -1, nullptr, 0, kIterations, EVP_sha256()) != 1) {
    return InternalError("cannot make the PKCS#12 backup: " + crypto::OpenSslErrorString());
  }
  unsigned char* der = nullptr;
  const int len = i2d_PKCS12(p12.get(), &der);
  if (len <= 0) return InternalError("cannot encode the backup: " + crypto::OpenSslErrorString());
  std::vector<uint8_t> out(der, der + len);
  OPENSSL_free(der);  // ciphertext only: nothing to wipe
  doc["backed_up"] = true;
  return out;
}

Result<Json> RestoreNativeProvider(const std::vector<uint8_t>& pkcs12, const std::string& password,
                                   kms::RootKey* root_key) {
  const Status bad = InvalidArgumentError(kBadBackup);
  const unsigned char* p = pkcs12.data();
  Pkcs12Ptr p12(d2i_PKCS12(nullptr, &p, static_cast<long>(pkcs12.size())));
  if (!p12 || p != pkcs12.data() + pkcs12.size()) {
    ERR_clear_error();
    return bad;
  }
  // The MAC proves the password (and the file's integrity) before anything
  // is decrypted.
  if (PKCS12_mac_present(p12.get()) != 1 ||
      PKCS12_verify_mac(p12.get(), password.c_str(), -1) != 1) {
    ERR_clear_error();
    return bad;
  }
  SafeStackPtr safes(PKCS12_unpack_authsafes(p12.get()));
  if (!safes) {
    ERR_clear_error();
    return bad;
  }
  SecretBytes kdk;
  std::string description;
  for (int i = 0; i < sk_PKCS7_num(safes.get()); ++i) {
    PKCS7* safe = sk_PKCS7_value(safes.get(), i);
    BagStackPtr bags;
    switch (OBJ_obj2nid(safe->type)) {
      case NID_pkcs7_data:
        bags.reset(PKCS12_unpack_p7data(safe));
        break;
      case NID_pkcs7_encrypted:
        bags.reset(PKCS12_unpack_p7encdata(safe, password.c_str(), -1));
        break;
      default:
        break;
    }
    if (!bags) continue;
    ReadBags(bags.get(), &kdk, &description);
  }
  ERR_clear_error();
  Json desc = Json::parse(description, nullptr, /*allow_exceptions=*/false);
  if (kdk.size() != kKdkSize || !desc.is_object() || desc.value("format", "") != kFormat) {
    return bad;
  }
  Result<std::string> name = internal::JsonString(desc, "name", true);
  if (!name.ok() || name->empty()) return bad;
  ASSIGN_OR_RETURN(Json sealed, SealKdk(kdk, *name, root_key));
  return NativeDoc(*name, JsonBool(desc, "tpm_required"), /*backed_up=*/true, std::move(sealed));
}

}  // namespace vmcrypt::center
