#include "src/kmip/payload_util.h"

#include "vmcrypt/ttlv/tags.h"

namespace vmcrypt::kmip::internal {

using ttlv::Item;
namespace tag = ttlv::tag;

Item RequestPayload() { return Item::Structure(tag::kRequestPayload); }
Item ResponsePayload() { return Item::Structure(tag::kResponsePayload); }

Status Since(ProtocolVersion v, ProtocolVersion since, bool present, const char* field) {
  if (!present || v >= since) return OkStatus();
  return NotInVersion(field, since.ToString().c_str());
}

Status UntilV2(ProtocolVersion v, bool present, const char* field) {
  if (!present || !v.is_v2()) return OkStatus();
  return InvalidArgumentError(std::string(field) + " does not exist in KMIP " + v.ToString());
}

Status AddAttributes(Item& s, const std::optional<AttributeList>& attrs, ProtocolVersion v,
                     uint32_t tag_v1, uint32_t tag_v2) {
  if (!attrs) return OkStatus();
  ASSIGN_OR_RETURN(Item container, EncodeAttributes(*attrs, v, tag_v1, tag_v2));
  s.Add(std::move(container));
  return OkStatus();
}

Result<std::optional<AttributeList>> TakeAttributes(Fields& f, ProtocolVersion v, uint32_t tag_v1,
                                                    uint32_t tag_v2) {
  ASSIGN_OR_RETURN(std::optional<Item> container, f.OptStruct(v.is_v2() ? tag_v2 : tag_v1));
  if (!container) return std::optional<AttributeList>();
  ASSIGN_OR_RETURN(AttributeList attrs, DecodeAttributes(*container));
  return std::optional<AttributeList>(std::move(attrs));
}

Result<Item> EncodeWrappedAttribute(uint32_t wrapper_tag, const Attribute& attr) {
  // KMIP 2.x has no Attribute Index (2.1 §5.7: just the attribute).
  if (attr.index) return InvalidArgumentError("Attribute Index does not exist in KMIP 2.x");
  ASSIGN_OR_RETURN(Item item, EncodeAttribute2(attr));
  return Item::Structure(wrapper_tag, {std::move(item)});
}

Result<Attribute> DecodeWrappedAttribute(const Item& wrapper) {
  if (!wrapper.is_structure() || wrapper.children().size() != 1) {
    return InvalidArgumentError(TagLabel(wrapper.tag()) + ": must hold exactly one attribute");
  }
  return DecodeAttribute2(wrapper.children()[0]);
}

Item EncodeProtocolVersion(ProtocolVersion v) {
  return Item::Structure(tag::kProtocolVersion,
                         {Item::Integer(tag::kProtocolVersionMajor, v.major),
                          Item::Integer(tag::kProtocolVersionMinor, v.minor)});
}

Result<ProtocolVersion> DecodeProtocolVersion(const Item& item) {
  Fields f(item);
  ProtocolVersion v;
  ASSIGN_OR_RETURN(v.major, f.Int(tag::kProtocolVersionMajor));
  ASSIGN_OR_RETURN(v.minor, f.Int(tag::kProtocolVersionMinor));
  RETURN_IF_ERROR(f.Done());
  return v;
}

}  // namespace vmcrypt::kmip::internal
