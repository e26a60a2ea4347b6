#include "src/kms/managed.h"

#include <openssl/evp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <string_view>
#include <unordered_map>

#include "vmcrypt/base/encoding.h"
#include "vmcrypt/crypto/random.h"
#include "vmcrypt/ttlv/codec.h"
#include "vmcrypt/ttlv/tags.h"

namespace vmcrypt::kms::internal {

using kmip::ResultReason;
namespace tag = ttlv::tag;

Status Fail(ResultReason reason, std::string message) {
  return Status(kmip::StatusCodeFor(reason), std::move(message))
      .WithDetail(static_cast<int32_t>(reason));
}

ResultReason ReasonOf(const Status& s) {
  if (s.detail() != 0) return static_cast<ResultReason>(s.detail());
  switch (s.code()) {
    case StatusCode::kNotFound:
      return ResultReason::kItemNotFound;
    case StatusCode::kPermissionDenied:
      return ResultReason::kPermissionDenied;
    case StatusCode::kInvalidArgument:
      return ResultReason::kInvalidField;
    case StatusCode::kUnimplemented:
      return ResultReason::kFeatureNotSupported;
    case StatusCode::kFailedPrecondition:
      return ResultReason::kIllegalOperation;
    case StatusCode::kAlreadyExists:
      return ResultReason::kObjectAlreadyExists;
    case StatusCode::kUnauthenticated:
      return ResultReason::kAuthenticationNotSuccessful;
    default:
      return ResultReason::kGeneralFailure;
  }
}

const kmip::AttributeList& Managed::attributes() const {
  static const kmip::AttributeList* const kNone = new kmip::AttributeList();
  return attributes_ != nullptr ? *attributes_ : *kNone;
}

kmip::AttributeList& Managed::mutable_attributes() {
  if (attributes_ == nullptr) attributes_ = std::make_shared<kmip::AttributeList>();
  // Shared with another Managed or with the cache: copy before changing.
  // (A count of 1 cannot grow behind our back: nobody else holds it.)
  if (attributes_.use_count() > 1) {
    attributes_ = std::make_shared<kmip::AttributeList>(*attributes_);
  }
  return *attributes_;
}

void Managed::set_attributes(kmip::AttributeList attributes) {
  attributes_ = std::make_shared<kmip::AttributeList>(std::move(attributes));
}

const kmip::Attribute* Managed::Find(std::string_view name) const {
  return kmip::FindAttribute(attributes(), name);
}

std::vector<const kmip::Attribute*> Managed::FindAll(std::string_view name) const {
  std::vector<const kmip::Attribute*> out;
  for (const kmip::Attribute& a : attributes()) {
    if (a.name == name) out.push_back(&a);
  }
  return out;
}

void Managed::Set(kmip::Attribute attr) {
  attr.index.reset();
  Remove(attr.name);
  mutable_attributes().push_back(std::move(attr));
}

void Managed::Remove(std::string_view name) {
  std::erase_if(mutable_attributes(), [&](const kmip::Attribute& a) { return a.name == name; });
}

void Managed::set_state(kmip::State s) {
  record.state = static_cast<uint32_t>(s);
  Set(kmip::Attribute::Enum("State", static_cast<uint32_t>(s)));
}

std::string NewUid() {
  // UUID version 7 (RFC 9562 §5.7): 48 bits of Unix time in milliseconds,
  // then 74 random bits. Time-ordered identifiers land next to each other in
  // the store's B-trees, so a Create dirties the last page of the uid index
  // instead of a random one (measured: fewer WAL pages per commit).
  uint8_t b[16];
  if (!crypto::RandomBytes(b).ok()) std::abort();  // no randomness: nothing is safe
  const uint64_t ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                std::chrono::system_clock::now().time_since_epoch())
                                                .count());
  for (int i = 0; i < 6; ++i) b[i] = static_cast<uint8_t>(ms >> (40 - 8 * i));
  b[6] = (b[6] & 0x0F) | 0x70;  // version 7
  b[8] = (b[8] & 0x3F) | 0x80;  // variant 10
  char out[40];
  std::snprintf(out, sizeof(out),
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return out;
}

store::IndexValue IndexValueOf(const ttlv::Item& v) {
  store::IndexValue out;
  switch (v.type()) {
    case ttlv::ItemType::kInteger:
    case ttlv::ItemType::kLongInteger:
    case ttlv::ItemType::kEnumeration:
    case ttlv::ItemType::kBoolean:
    case ttlv::ItemType::kDateTime:
    case ttlv::ItemType::kInterval:
    case ttlv::ItemType::kDateTimeExtended:
      out.number = v.int_value();
      return out;
    case ttlv::ItemType::kTextString:
      out.text = std::string(v.text());
      return out;
    case ttlv::ItemType::kStructure:
      if (const ttlv::Item* name = v.Find(tag::kNameValue);
          name != nullptr && name->type() == ttlv::ItemType::kTextString) {
        out.text = std::string(name->text());
        return out;
      }
      break;
    default:
      break;
  }
  auto wire = ttlv::Encode(v.WithTag(tag::kAttributeValue));
  out.text = wire.ok() ? HexEncode(*wire) : std::string();
  return out;
}

namespace {

// Tags and values tags.h and enums.h do not name (KMIP 1.4 §9.1.3.1,
// §9.1.3.2.16).
constexpr uint32_t kTagDigestValue = 0x420035;
constexpr uint32_t kTagHashingAlgorithm = 0x420038;
constexpr uint32_t kTagRngAlgorithm = 0x4200DA;
constexpr uint32_t kTagDrbgAlgorithm = 0x4200DB;
constexpr uint32_t kHashSha256 = 0x06;
constexpr uint32_t kRngDrbg = 0x03;  // RNG Algorithm DRBG (1.4 §9.1.3.2.44)
constexpr uint32_t kDrbgCtr = 0x05;  // DRBG Algorithm CTR (§9.1.3.2.45)

}  // namespace

std::optional<kmip::Attribute> DigestOf(const kmip::ManagedObject& object) {
  std::span<const uint8_t> bytes;
  uint32_t format = static_cast<uint32_t>(kmip::KeyFormatType::kRaw);
  if (object.key_block.has_value()) {
    const kmip::KeyBlock& b = *object.key_block;
    if (b.key_material.empty() || b.wrapped_key_value.has_value()) return std::nullopt;
    bytes = b.key_material.span();
    format = b.key_format_type;
  } else if (!object.value.empty()) {
    bytes = object.value.span();
  } else {
    return std::nullopt;
  }
  uint8_t md[EVP_MAX_MD_SIZE];
  size_t md_len = 0;
  if (EVP_Q_digest(nullptr, "SHA256", nullptr, bytes.data(), bytes.size(), md, &md_len) != 1) {
    return std::nullopt;
  }
  ttlv::Item value = ttlv::Item::Structure(
      tag::kAttributeValue,
      {ttlv::Item::Enumeration(kTagHashingAlgorithm, kHashSha256),
       ttlv::Item::ByteString(kTagDigestValue, std::span<const uint8_t>(md, md_len)),
       ttlv::Item::Enumeration(tag::kKeyFormatType, format)});
  return kmip::Attribute{"Digest", std::nullopt, std::move(value)};
}

kmip::Attribute LinkAttribute(uint32_t link_type, const std::string& uid) {
  constexpr uint32_t kTagLinkType = 0x42004B;  // 1.4 §9.1.3.1
  constexpr uint32_t kTagLinkedObjectIdentifier = 0x42004C;
  kmip::Attribute a;
  a.name = "Link";
  a.value = ttlv::Item::Structure(ttlv::tag::kLink,
                                  {ttlv::Item::Enumeration(kTagLinkType, link_type),
                                   ttlv::Item::TextString(kTagLinkedObjectIdentifier, uid)});
  return a;
}

kmip::Attribute RandomNumberGeneratorAttribute() {
  ttlv::Item value = ttlv::Item::Structure(
      tag::kAttributeValue,
      {ttlv::Item::Enumeration(kTagRngAlgorithm, kRngDrbg),
       ttlv::Item::Enumeration(tag::kCryptographicAlgorithm,
                               static_cast<uint32_t>(kmip::CryptographicAlgorithm::kAes)),
       ttlv::Item::Integer(tag::kCryptographicLength, 256),
       ttlv::Item::Enumeration(kTagDrbgAlgorithm, kDrbgCtr)});
  return kmip::Attribute{"Random Number Generator", std::nullopt, std::move(value)};
}

namespace {

std::vector<uint8_t> EncodeAttributes(const kmip::AttributeList& attrs) {
  ttlv::Item s = ttlv::Item::Structure(tag::kTemplateAttribute);
  for (const kmip::Attribute& a : attrs) s.Add(kmip::EncodeAttribute1(a));
  auto wire = ttlv::Encode(s);
  return wire.ok() ? std::vector<uint8_t>(wire->begin(), wire->end()) : std::vector<uint8_t>();
}

Result<kmip::AttributeList> DecodeAttributes(const std::vector<uint8_t>& blob) {
  ASSIGN_OR_RETURN(ttlv::Item s, ttlv::Decode(blob));
  return kmip::DecodeAttributes(s);
}

// Decoded attributes of recently loaded objects, so that a Get of a key
// that has not changed does not decode its attributes again (that was 13% of
// the server's time in a Get load). An entry is used only for the
// exact stored bytes it was decoded from, so it can never be stale: a change
// to the object changes the bytes. Bounded (kShards * kPerShard entries, a
// few KiB each), sharded to keep the request threads off each other's lock.
class AttributeCache {
 public:
  std::shared_ptr<kmip::AttributeList> Find(const store::ObjectRecord& r) {
    Shard& s = ShardOf(r.uid);
    std::lock_guard<std::mutex> lock(s.mu);
    auto it = s.map.find(std::string_view(r.uid));
    if (it == s.map.end() || it->second.tenant != r.tenant || it->second.blob != r.attributes) {
      return nullptr;
    }
    return it->second.attributes;
  }

  void Put(const store::ObjectRecord& r, std::shared_ptr<kmip::AttributeList> attributes) {
    Shard& s = ShardOf(r.uid);
    std::lock_guard<std::mutex> lock(s.mu);
    if (s.map.size() >= kPerShard && s.map.find(std::string_view(r.uid)) == s.map.end()) {
      s.map.erase(s.map.begin());
    }
    s.map.insert_or_assign(r.uid, Entry{r.tenant, r.attributes, std::move(attributes)});
  }

 private:
  static constexpr size_t kShards = 16;
  static constexpr size_t kPerShard = 128;
  struct Entry {
    std::string tenant;
    std::vector<uint8_t> blob;
    std::shared_ptr<kmip::AttributeList> attributes;
  };
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, Entry, Hash, std::equal_to<>> map;
  };
  Shard& ShardOf(std::string_view uid) { return shards_[Hash()(uid) % kShards]; }

  Shard shards_[kShards];
};

AttributeCache& DecodedAttributes() {
  static AttributeCache* cache = new AttributeCache();  // never destroyed
  return *cache;
}

// Whether `a` takes one of a few values that many objects have in common
// (IndexEntry::shared): enumerations and flags, and the integers and
// structures that describe a kind of key rather than one key.
bool SharedByMany(const kmip::Attribute& a) {
  const ttlv::ItemType type = a.value.type();
  if (type == ttlv::ItemType::kEnumeration || type == ttlv::ItemType::kBoolean) return true;
  static constexpr std::string_view kKinds[] = {
      "Cryptographic Length",    "Cryptographic Usage Mask", "Lease Time",
      "Protection Storage Mask", "Protection Storage Masks", "Random Number Generator",
  };
  return std::find(std::begin(kKinds), std::end(kKinds), a.name) != std::end(kKinds);
}

void Reindex(Managed& m) {
  m.record.attributes = EncodeAttributes(m.attributes());
  m.record.index.clear();
  for (const kmip::Attribute& a : m.attributes()) {
    m.record.index.push_back({a.name, IndexValueOf(a.value), SharedByMany(a)});
  }
}

Status Wrap(RootKey& root_key, Managed& m, const kmip::ManagedObject& material) {
  ASSIGN_OR_RETURN(ttlv::Item tree, kmip::EncodeObject(material, kmip::kKmip21));
  ASSIGN_OR_RETURN(ttlv::Bytes wire, ttlv::Encode(tree));
  SecretBytes plain(std::span<const uint8_t>(wire.data(), wire.size()));
  ASSIGN_OR_RETURN(WrappedKey wrapped, root_key.Wrap(plain, AsBytes(m.record.uid)));
  m.record.root_key_version = wrapped.root_key_version;
  m.record.wrapped_material = std::move(wrapped.blob);
  return OkStatus();
}

}  // namespace

Result<Managed> Load(store::ObjectStore& store, std::string_view tenant, std::string_view uid) {
  // The index is rebuilt from the attributes before any write (Reindex).
  auto record = store.GetWithoutIndex(tenant, uid);
  if (!record.ok()) {
    if (record.status().code() == StatusCode::kNotFound) {
      return Fail(ResultReason::kItemNotFound, "no object " + std::string(uid));
    }
    return record.status();
  }
  Managed m;
  m.record = std::move(*record);
  if (auto cached = DecodedAttributes().Find(m.record)) {
    m.attributes_ = std::move(cached);
    return m;
  }
  auto attrs = DecodeAttributes(m.record.attributes);
  if (!attrs.ok())
    return DataLossError("stored attributes of " + std::string(uid) + " are corrupt");
  m.attributes_ = std::make_shared<kmip::AttributeList>(std::move(*attrs));
  DecodedAttributes().Put(m.record, m.attributes_);
  return m;
}

namespace {

// Seals the material into `m` and sets what goes with it, ready to insert.
Status PrepareInsert(RootKey& root_key, Managed& m, const kmip::ManagedObject* material) {
  if (material != nullptr) RETURN_IF_ERROR(Wrap(root_key, m, *material));
  // The Key Format Type attribute (2.1 §4.26): the format the server holds
  // the key in, set by the server when the object is stored.
  if (material != nullptr && material->key_block.has_value()) {
    m.Set(kmip::Attribute::Enum("Key Format Type", material->key_block->key_format_type));
  }
  Reindex(m);
  return OkStatus();
}

}  // namespace

Status Insert(store::ObjectStore& store, RootKey& root_key, Managed& m,
              const kmip::ManagedObject* material) {
  RETURN_IF_ERROR(PrepareInsert(root_key, m, material));
  return store.Insert(m.record);
}

Status InsertAll(store::ObjectStore& store, RootKey& root_key,
                 std::span<const std::pair<Managed*, const kmip::ManagedObject*>> objects) {
  std::vector<store::ObjectRecord> records;
  records.reserve(objects.size());
  for (const auto& [m, material] : objects) {
    RETURN_IF_ERROR(PrepareInsert(root_key, *m, material));
    records.push_back(m->record);
  }
  return store.InsertAll(records);
}

Status InsertAndUpdate(store::ObjectStore& store, RootKey& root_key, Managed& m,
                       const kmip::ManagedObject* material, Managed& changed) {
  RETURN_IF_ERROR(PrepareInsert(root_key, m, material));
  Reindex(changed);
  const store::ObjectRecord inserts[] = {m.record};
  const store::ObjectRecord updates[] = {changed.record};
  return store.InsertAndUpdate(inserts, updates);
}

Status Update(store::ObjectStore& store, RootKey& root_key, Managed& m,
              const kmip::ManagedObject* material, bool clear_material) {
  if (material != nullptr) RETURN_IF_ERROR(Wrap(root_key, m, *material));
  if (clear_material) m.record.wrapped_material.clear();
  Reindex(m);
  return store.Update(m.record);
}

Result<kmip::ManagedObject> Material(RootKey& root_key, const Managed& m) {
  if (m.record.wrapped_material.empty()) {
    return Fail(ResultReason::kKeyValueNotPresent,
                "object " + m.record.uid + " has no key material (it was destroyed)");
  }
  WrappedKey wrapped{m.record.root_key_version, m.record.wrapped_material};
  ASSIGN_OR_RETURN(SecretBytes plain, root_key.Unwrap(wrapped, AsBytes(m.record.uid)));
  ASSIGN_OR_RETURN(ttlv::Item tree, ttlv::Decode(plain.span()));
  return kmip::DecodeObject(tree);
}

}  // namespace vmcrypt::kms::internal
