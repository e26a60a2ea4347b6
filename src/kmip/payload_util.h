// Helpers shared by the payload codecs (payloads_*.cc). Internal to the kmip
// component.
#ifndef VMCRYPT_SRC_KMIP_PAYLOAD_UTIL_H_
#define VMCRYPT_SRC_KMIP_PAYLOAD_UTIL_H_

#include <optional>

#include "src/kmip/fields.h"
#include "vmcrypt/base/status.h"
#include "vmcrypt/kmip/attribute.h"
#include "vmcrypt/kmip/version.h"
#include "vmcrypt/ttlv/item.h"

namespace vmcrypt::kmip::internal {

// An empty Request Payload / Response Payload structure.
ttlv::Item RequestPayload();
ttlv::Item ResponsePayload();

// OK unless `present` and `v` is older than `since`; the error names `field`.
Status Since(ProtocolVersion v, ProtocolVersion since, bool present, const char* field);
// OK unless `present` and `v` is 2.0 or later (fields KMIP 2.0 removed).
Status UntilV2(ProtocolVersion v, bool present, const char* field);

// Appends an attribute container in the version's form (Template-Attribute
// `tag_v1` in 1.x, Attributes `tag_v2` in 2.x) when `attrs` is set.
Status AddAttributes(ttlv::Item& s, const std::optional<AttributeList>& attrs, ProtocolVersion v,
                     uint32_t tag_v1, uint32_t tag_v2);
// Takes the container of the version's form, if present.
Result<std::optional<AttributeList>> TakeAttributes(Fields& f, ProtocolVersion v, uint32_t tag_v1,
                                                    uint32_t tag_v2);

// KMIP 2.x New Attribute / Current Attribute (2.1 §5.6, §5.7): a structure holding
// one attribute under its own tag, or a vendor Attribute structure.
Result<ttlv::Item> EncodeWrappedAttribute(uint32_t wrapper_tag, const Attribute& attr);
Result<Attribute> DecodeWrappedAttribute(const ttlv::Item& wrapper);

// Protocol Version structure (1.4 §6.1).
ttlv::Item EncodeProtocolVersion(ProtocolVersion v);
Result<ProtocolVersion> DecodeProtocolVersion(const ttlv::Item& item);

}  // namespace vmcrypt::kmip::internal

#endif  // VMCRYPT_SRC_KMIP_PAYLOAD_UTIL_H_
