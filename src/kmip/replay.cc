#include "vmcrypt/kmip/replay.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <utility>

#include "vmcrypt/base/encoding.h"
#include "vmcrypt/ttlv/dictionary.h"
#include "vmcrypt/ttlv/tags.h"

namespace vmcrypt::kmip {
namespace {

using ttlv::Item;
using ttlv::ItemType;
namespace tag = ttlv::tag;

// Tags that tags.h does not name (KMIP 1.4 §9.1.3.1).
constexpr uint32_t kTagDigestValue = 0x420035;
constexpr uint32_t kTagSignatureData = 0x4200C3;

bool IsNameChar(char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; }

// "$NAME" or "$NAME+N" / "$NAME-N" with NAME of [A-Z0-9_], starting with a letter.
bool LooksLikePlaceholder(std::string_view s) {
  if (s.size() < 2 || s[0] != '$' || s[1] < 'A' || s[1] > 'Z') return false;
  size_t i = 1;
  while (i < s.size() && IsNameChar(s[i])) ++i;
  if (i == s.size()) return true;
  if (s[i] != '+' && s[i] != '-') return false;
  if (++i == s.size()) return false;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

std::string TagName(uint32_t t, int major) {
  std::string_view name = ttlv::dict::TagName(t, major);
  if (name.empty()) name = ttlv::dict::TagName(t, major == 1 ? 2 : 1);
  if (!name.empty()) return std::string(name);
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%06X", t);
  return buf;
}

std::string FormatDateTime(int64_t seconds) {
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) return std::to_string(seconds);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// A value as a failure message shows it. Key material is never shown, only
// its length: these messages end up in logs (STYLE.md rule 9).
std::string FormatValue(const Item& item, int major) {
  if (auto p = PlaceholderText(item)) return *p;
  switch (item.type()) {
    case ItemType::kStructure:
      return "a structure of " + std::to_string(item.children().size()) + " items";
    case ItemType::kEnumeration: {
      const auto v = static_cast<uint32_t>(item.int_value());
      std::string_view name =
          ttlv::dict::EnumName(ttlv::dict::EnumerationForTag(item.tag()), v, major);
      if (!name.empty()) return std::string(name);
      char buf[16];
      std::snprintf(buf, sizeof buf, "0x%08X", v);
      return buf;
    }
    case ItemType::kBoolean:
      return item.int_value() != 0 ? "true" : "false";
    case ItemType::kDateTime:
      return FormatDateTime(item.int_value());
    case ItemType::kDateTimeExtended:
      return FormatDateTime(item.int_value() / 1000000) + " (" + std::to_string(item.int_value()) +
             " us)";
    case ItemType::kTextString:
      return "\"" + std::string(item.text()) + "\"";
    case ItemType::kByteString:
    case ItemType::kBigInteger:
      if (item.tag() == tag::kKeyMaterial || item.tag() == tag::kKeyValue) {
        return "<" + std::to_string(item.bytes().size()) + " bytes of key material>";
      }
      return item.bytes().empty() ? "<empty>" : HexEncode(item.bytes());
    case ItemType::kInteger:
    case ItemType::kLongInteger:
    case ItemType::kInterval:
    default:
      return std::to_string(item.int_value());
  }
}

// Equality of two leaves' values, ignoring their tags.
bool SameValue(const Item& a, const Item& b) { return a.WithTag(b.tag()) == b; }

// The major protocol version in a message's header (for tag names), 1 if none.
int MajorOf(const Item& message) {
  std::optional<ProtocolVersion> v = PeekVersion(message);
  return v ? v->major : 1;
}

}  // namespace

std::optional<std::string> PlaceholderText(const Item& item) {
  if (item.is_placeholder()) return std::string(item.text());
  if (item.type() == ItemType::kTextString && LooksLikePlaceholder(item.text())) {
    return std::string(item.text());
  }
  return std::nullopt;
}

std::optional<int64_t> NowOffset(std::string_view placeholder) {
  constexpr std::string_view kNow = "$NOW";
  if (placeholder.substr(0, kNow.size()) != kNow) return std::nullopt;
  std::string_view rest = placeholder.substr(kNow.size());
  if (rest.empty()) return 0;
  if (rest.size() < 2 || (rest[0] != '+' && rest[0] != '-')) return std::nullopt;
  int64_t n = 0;
  auto [end, ec] = std::from_chars(rest.data() + 1, rest.data() + rest.size(), n);
  if (ec != std::errc() || end != rest.data() + rest.size()) return std::nullopt;
  return rest[0] == '-' ? -n : n;
}

ReplaySession::ReplaySession(std::function<int64_t()> now) : now_(std::move(now)) {}

Result<Item> ReplaySession::PrepareRequest(const Item& request) {
  substituted_items_.clear();
  return PrepareAt(request, -1);
}

Result<Item> ReplaySession::PrepareAt(const Item& request, int batch_index) {
  if (request.is_structure()) {
    Item out = Item::Structure(request.tag());
    int index = 0;
    for (const Item& child : request.children()) {
      const bool item = request.tag() == tag::kRequestMessage && child.tag() == tag::kBatchItem;
      ASSIGN_OR_RETURN(Item c, PrepareAt(child, item ? index++ : batch_index));
      out.Add(std::move(c));
    }
    return out;
  }
  std::optional<std::string> p = PlaceholderText(request);
  if (!p) {
    // Difference 5: the document repeats a value the server drew at random
    // (e.g. Decrypt of the ciphertext an Encrypt returned); send the actual one.
    if (request.type() != ItemType::kByteString && request.type() != ItemType::kBigInteger) {
      return request;
    }
    for (const auto& [expected, actual] : drawn_) {
      if (SameValue(expected, request)) {
        substituted_items_.insert(batch_index);
        return actual.WithTag(request.tag());
      }
    }
    return request;
  }
  if (std::optional<int64_t> offset = NowOffset(*p)) {
    const int64_t t = now_() + *offset;
    switch (request.type()) {
      case ItemType::kDateTime:
        return Item::DateTime(request.tag(), t);
      case ItemType::kDateTimeExtended:
        return Item::DateTimeExtended(request.tag(), t * 1000000);
      default:
        return InvalidArgumentError(*p + " in a " + std::string(ItemTypeName(request.type())));
    }
  }
  auto it = bindings_.find(*p);
  if (it == bindings_.end()) {
    return InvalidArgumentError("request placeholder " + *p +
                                " has no value yet (no earlier response bound it)");
  }
  if (it->second.type() != request.type()) {
    return InvalidArgumentError("request placeholder " + *p + " is a " +
                                std::string(ItemTypeName(request.type())) + " but was bound to a " +
                                std::string(ItemTypeName(it->second.type())));
  }
  return it->second.WithTag(request.tag());
}

std::optional<std::string> ReplaySession::Compare(const Item& expected, const Item& actual) {
  major_ = MajorOf(expected);
  batch_index_ = 0;
  key_value_depth_ = 0;
  item_ = ItemContext{};
  return CompareAt(expected, actual, "/" + TagName(expected.tag(), major_), 0);
}

void ReplaySession::EnterBatchItem(const Item& actual) {
  item_ = ItemContext{};
  item_.substituted = substituted_items_.count(batch_index_) != 0;
  ++batch_index_;
  const Item* op = actual.Find(tag::kOperation);
  if (op != nullptr && op->type() == ItemType::kEnumeration) {
    item_.operation = static_cast<uint32_t>(op->int_value());
  }
  const Item* payload = actual.Find(tag::kResponsePayload);
  if (payload == nullptr || !payload->is_structure()) return;
  const Item* uid = payload->Find(tag::kUniqueIdentifier);
  if (uid != nullptr && uid->type() == ItemType::kTextString) item_.uid = std::string(uid->text());
  // Objects whose key material the server drew (KMIP 1.4 §4.1, §4.2, §4.4,
  // §4.5, §4.6, §4.7): a successful answer names them.
  const Item* status = actual.Find(tag::kResultStatus);
  if (status == nullptr || status->int_value() != static_cast<int64_t>(ResultStatus::kSuccess)) {
    return;
  }
  switch (static_cast<Operation>(item_.operation)) {
    case Operation::kCreate:
    case Operation::kCreateKeyPair:
    case Operation::kDeriveKey:
    case Operation::kReKey:
    case Operation::kReKeyKeyPair:
      for (uint32_t t : {tag::kUniqueIdentifier, tag::kPrivateKeyUniqueIdentifier,
                         tag::kPublicKeyUniqueIdentifier}) {
        const Item* id = payload->Find(t);
        if (id != nullptr && id->type() == ItemType::kTextString) {
          generated_.insert(std::string(id->text()));
        }
      }
      break;
    default:
      break;
  }
}

bool ReplaySession::DrawnAtRandom(const Item& expected, uint32_t parent_tag) const {
  if (expected.type() != ItemType::kByteString && expected.type() != ItemType::kBigInteger) {
    return false;
  }
  const auto op = static_cast<Operation>(item_.operation);
  // RNG Retrieve Data (1.4 §4.35).
  if (op == Operation::kRngRetrieve) {
    return parent_tag == tag::kResponsePayload && expected.tag() == tag::kData;
  }
  if (generated_.count(item_.uid) == 0) return false;
  // The key material of a generated object, in any Key Format (1.4 §2.1.4),
  // and the Digest of it (§3.17).
  if (op == Operation::kGet && key_value_depth_ > 0) return true;
  if (expected.tag() == kTagDigestValue) return true;
  // What a cryptographic operation computed with it from the document's
  // input; when the input was itself drawn (substituted), the server got its
  // own output back and the answer must be exact.
  if (item_.substituted || parent_tag != tag::kResponsePayload) return false;
  switch (op) {
    case Operation::kEncrypt:
    case Operation::kDecrypt:
      return expected.tag() == tag::kData || expected.tag() == tag::kAuthenticatedEncryptionTag;
    case Operation::kMac:
      return expected.tag() == tag::kMacData;
    case Operation::kSign:
      return expected.tag() == kTagSignatureData;
    default:
      return false;
  }
}

namespace {
// A 1.x Attribute structure naming the Random Number Generator.
bool IsRngAttribute(const Item& a) {
  if (!a.is_structure()) return false;
  for (const Item& c : a.children()) {
    if (c.tag() == tag::kAttributeName && c.type() == ttlv::ItemType::kTextString) {
      return c.text() == "Random Number Generator";
    }
  }
  return false;
}
}  // namespace

std::optional<std::string> ReplaySession::CompareAt(const Item& expected, const Item& actual,
                                                    const std::string& path, uint32_t parent_tag) {
  if (expected.tag() != actual.tag()) {
    return path + ": expected " + TagName(expected.tag(), major_) + ", got " +
           TagName(actual.tag(), major_);
  }
  if (expected.type() != actual.type()) {
    return path + ": expected type " + std::string(ItemTypeName(expected.type())) + ", got " +
           std::string(ItemTypeName(actual.type()));
  }
  // Allowed difference 1: placeholders.
  if (std::optional<std::string> p = PlaceholderText(expected)) {
    if (NowOffset(*p)) return std::nullopt;  // any time: when the server ran
    auto [it, inserted] = bindings_.try_emplace(*p, actual);
    if (inserted || SameValue(it->second, actual)) return std::nullopt;
    return path + ": expected " + *p + " = " + FormatValue(it->second, major_) + ", got " +
           FormatValue(actual, major_);
  }
  // Allowed difference 2: when the server answered (KMIP 1.4 §6.5).
  if (parent_tag == tag::kResponseHeader && expected.tag() == tag::kTimeStamp) return std::nullopt;
  // Allowed difference 3: servers word messages differently (KMIP 1.4 §6.11);
  // Result Status and Result Reason are still compared.
  if (parent_tag == tag::kBatchItem && expected.tag() == tag::kResultMessage) return std::nullopt;
  // Allowed difference 6: the Random Number Generator attribute (KMIP 1.4
  // §3.44) describes the server's own generator; only its presence and
  // shape are compared. 2.x: the attribute's own tag; 1.x: an Attribute
  // named "Random Number Generator" whose value is a structure.
  constexpr uint32_t kRandomNumberGenerator = 0x4200DE;
  if (expected.tag() == kRandomNumberGenerator && expected.is_structure()) return std::nullopt;
  if (expected.tag() == tag::kAttribute && IsRngAttribute(expected) && IsRngAttribute(actual)) {
    return std::nullopt;
  }

  if (!expected.is_structure()) {
    // Allowed difference 5: drawn at random; same length, then bound (and
    // once bound, the actual value must repeat, even if it is the document's).
    if (DrawnAtRandom(expected, parent_tag)) {
      for (const auto& [e, a] : drawn_) {
        if (!SameValue(e, expected)) continue;
        if (SameValue(a, actual)) return std::nullopt;
        return path + ": expected the same " + std::to_string(a.bytes().size()) +
               " random bytes as before, got others";
      }
      if (expected.bytes().size() != actual.bytes().size()) {
        return path + ": expected " + std::to_string(expected.bytes().size()) +
               " bytes drawn at random, got " + std::to_string(actual.bytes().size());
      }
      drawn_.emplace_back(expected, actual);
      return std::nullopt;
    }
    if (SameValue(expected, actual)) return std::nullopt;
    const bool secret = actual.tag() == tag::kKeyMaterial || actual.tag() == tag::kKeyValue;
    if (secret && expected.bytes().size() == actual.bytes().size()) {
      // Neither value may be shown; say that they differ, not only their length.
      return path + ": expected " + FormatValue(expected, major_) + ", got " +
             std::to_string(actual.bytes().size()) + " different bytes";
    }
    return path + ": expected " + FormatValue(expected, major_) + ", got " +
           FormatValue(actual, major_);
  }
  if (expected.tag() == tag::kBatchItem) EnterBatchItem(actual);
  // Inside a Key Value while comparing its children (difference 5).
  struct Depth {
    int& depth;
    bool on;
    ~Depth() {
      if (on) --depth;
    }
  } depth{key_value_depth_, expected.tag() == tag::kKeyValue};
  if (depth.on) ++key_value_depth_;
  const std::vector<Item>& ec = expected.children();
  const std::vector<Item>& ac = actual.children();
  std::map<uint32_t, int> seen;    // tag -> occurrences so far
  std::map<uint32_t, int> counts;  // tag -> occurrences in either tree
  for (const Item& c : ec) ++counts[c.tag()];
  std::map<uint32_t, int> actual_counts;
  for (const Item& c : ac) ++actual_counts[c.tag()];
  for (auto& [t, n] : actual_counts) counts[t] = std::max(counts[t], n);
  auto child_path = [&](const Item& c) {
    std::string p = path + "/" + TagName(c.tag(), major_);
    const int index = seen[c.tag()]++;
    if (counts[c.tag()] > 1 || c.tag() == tag::kBatchItem) p += "[" + std::to_string(index) + "]";
    return p;
  };
  for (size_t i = 0; i < ec.size() || i < ac.size(); ++i) {
    if (i >= ac.size()) {
      return child_path(ec[i]) + ": expected " + FormatValue(ec[i], major_) + ", got nothing";
    }
    if (i >= ec.size()) {
      return child_path(ac[i]) + ": expected nothing, got " + FormatValue(ac[i], major_);
    }
    if (auto d = CompareAt(ec[i], ac[i], child_path(ec[i]), expected.tag())) return d;
  }
  return std::nullopt;
}

ReplayOutcome ReplayDocument(const std::vector<Item>& messages, const SendFn& send,
                             std::function<int64_t()> now) {
  ReplaySession session(std::move(now));
  auto fail = [](size_t n, const std::string& what) {
    return ReplayOutcome{false, "message " + std::to_string(n) + ": " + what};
  };
  if (messages.empty()) return {false, "no messages in the document"};
  if (messages.size() % 2 != 0) {
    return {false, "the document does not alternate Request and Response Messages"};
  }
  for (size_t i = 0; i < messages.size(); i += 2) {
    const size_t n = i / 2 + 1;
    const Item& request_doc = messages[i];
    const Item& expected = messages[i + 1];
    if (request_doc.tag() != tag::kRequestMessage || expected.tag() != tag::kResponseMessage) {
      return fail(n, "not a Request Message followed by a Response Message");
    }
    Result<Item> prepared = session.PrepareRequest(request_doc);
    if (!prepared.ok()) return fail(n, prepared.status().message());
    Result<RequestMessage> request = DecodeRequest(*prepared);
    if (!request.ok()) return fail(n, "bad request in the document: " + request.status().message());
    Result<ResponseMessage> response = send(*request);
    if (!response.ok()) return fail(n, response.status().message());
    // Allowed difference 4: the client numbers unnumbered batch items; the
    // server echoes the number (KMIP 1.4 §6.4), which the document lacks.
    // Responses come back in request order (SendFn contract).
    for (size_t k = 0; k < request->items.size() && k < response->items.size(); ++k) {
      if (!request->items[k].unique_batch_item_id) {
        response->items[k].unique_batch_item_id.reset();
      }
    }
    Result<Item> actual = EncodeResponse(*response);
    if (!actual.ok()) return fail(n, "cannot re-encode the response: " + actual.status().message());
    if (std::optional<std::string> d = session.Compare(expected, *actual)) return fail(n, *d);
  }
  return {true, ""};
}

}  // namespace vmcrypt::kmip
