// Conformance of the typed KMIP model (message.h, payloads.h, object.h)
// against every OASIS KMIP 1.4 and 2.1 test case.
//
// For each RequestMessage and ResponseMessage of every file:
//   XML -> TTLV bytes -> TTLV item -> DecodeRequest/DecodeResponse ->
//   EncodeRequest/EncodeResponse must give back the decoded item exactly;
// and for each batch item whose operation has a typed payload, decoding the
// payload with its type in the message's version and encoding it again must
// give back the payload exactly. Failed batch items carry no payload and are
// skipped. Per-operation counts are printed.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "tests/oasis_testcases.h"
#include "vmcrypt/kmip/message.h"
#include "vmcrypt/kmip/payloads.h"
#include "vmcrypt/ttlv/codec.h"
#include "vmcrypt/ttlv/xml.h"

namespace vmcrypt::kmip {
namespace {

namespace fs = std::filesystem;
using ttlv::Item;

using test_support::ReadFile;
using test_support::TestCaseDir;
using test_support::TestCaseFiles;

// Test-case payloads that are outside the typed model on purpose, as
// "<file name>#<message index>#<batch item index>". Each entry says why.
const std::set<std::string>& AllowList() {
  static const std::set<std::string> kAllowed = {};
  return kAllowed;
}

// Decodes a payload with type T and encodes it again; the result must equal
// the payload. `keep_tag`: the payload's own tag is put back on the result
// (for CheckPayload, which serves requests and responses alike).
template <typename T>
Status RoundTripAs(const Item& payload, ProtocolVersion v, bool keep_tag) {
  ASSIGN_OR_RETURN(T typed, T::Decode(payload, v));
  ASSIGN_OR_RETURN(Item out, typed.Encode(v));
  if (keep_tag) out.set_tag(payload.tag());
  if (out == payload) return OkStatus();
  return InternalError("re-encoded payload differs:\n--- original\n" + ttlv::WriteXml(payload) +
                       "--- re-encoded\n" + ttlv::WriteXml(out));
}

template <typename T>
Status RoundTrip(const Item& payload, ProtocolVersion v) {
  return RoundTripAs<T>(payload, v, false);
}

// The same for the cryptographic operations, whose decoder takes the operation.
template <typename T>
Status CryptoRoundTrip(const Item& payload, ProtocolVersion v, Operation op) {
  ASSIGN_OR_RETURN(T typed, T::Decode(payload, v, op));
  ASSIGN_OR_RETURN(Item out, typed.Encode(v));
  if (out == payload) return OkStatus();
  return InternalError("re-encoded payload differs:\n--- original\n" + ttlv::WriteXml(payload) +
                       "--- re-encoded\n" + ttlv::WriteXml(out));
}

using Checker = std::function<Status(const Item&, ProtocolVersion)>;

// The typed round trip for (operation, request?) or nullptr when the
// operation is not modelled.
Checker CheckerFor(Operation op, bool request) {
  auto crypto = [op, request](const Item& p, ProtocolVersion v) {
    return request ? CryptoRoundTrip<CryptoRequest>(p, v, op)
                   : CryptoRoundTrip<CryptoResponse>(p, v, op);
  };
  switch (op) {
    case Operation::kDiscoverVersions:
      return request ? Checker(RoundTrip<DiscoverVersionsRequest>)
                     : Checker(RoundTrip<DiscoverVersionsResponse>);
    case Operation::kQuery:
      return request ? Checker(RoundTrip<QueryRequest>) : Checker(RoundTrip<QueryResponse>);
    case Operation::kCreate:
      return request ? Checker(RoundTrip<CreateRequest>) : Checker(RoundTrip<CreateResponse>);
    case Operation::kCreateKeyPair:
      return request ? Checker(RoundTrip<CreateKeyPairRequest>)
                     : Checker(RoundTrip<CreateKeyPairResponse>);
    case Operation::kRegister:
      return request ? Checker(RoundTrip<RegisterRequest>) : Checker(RoundTrip<RegisterResponse>);
    case Operation::kGet:
      return request ? Checker(RoundTrip<GetRequest>) : Checker(RoundTrip<GetResponse>);
    case Operation::kGetAttributes:
      return request ? Checker(RoundTrip<GetAttributesRequest>)
                     : Checker(RoundTrip<GetAttributesResponse>);
    case Operation::kGetAttributeList:
      return request ? Checker(RoundTrip<GetAttributeListRequest>)
                     : Checker(RoundTrip<GetAttributeListResponse>);
    case Operation::kAddAttribute:
      return request ? Checker(RoundTrip<AddAttributeRequest>)
                     : Checker(RoundTrip<AttributeChangeResponse>);
    case Operation::kModifyAttribute:
      return request ? Checker(RoundTrip<ModifyAttributeRequest>)
                     : Checker(RoundTrip<AttributeChangeResponse>);
    case Operation::kDeleteAttribute:
      return request ? Checker(RoundTrip<DeleteAttributeRequest>)
                     : Checker(RoundTrip<AttributeChangeResponse>);
    case Operation::kSetAttribute:
      return request ? Checker(RoundTrip<SetAttributeRequest>) : Checker(RoundTrip<UidResponse>);
    case Operation::kLocate:
      return request ? Checker(RoundTrip<LocateRequest>) : Checker(RoundTrip<LocateResponse>);
    case Operation::kActivate:
    case Operation::kDestroy:
      return request ? Checker(RoundTrip<UidRequest>) : Checker(RoundTrip<UidResponse>);
    case Operation::kRevoke:
      return request ? Checker(RoundTrip<RevokeRequest>) : Checker(RoundTrip<UidResponse>);
    case Operation::kCheck:
      return [](const Item& p, ProtocolVersion v) { return RoundTripAs<CheckPayload>(p, v, true); };
    case Operation::kReKey:
      return request ? Checker(RoundTrip<ReKeyRequest>) : Checker(RoundTrip<ReKeyResponse>);
    case Operation::kEncrypt:
    case Operation::kDecrypt:
    case Operation::kMac:
      return crypto;
    case Operation::kRngRetrieve:
      return request ? Checker(RoundTrip<RngRetrieveRequest>)
                     : Checker(RoundTrip<RngRetrieveResponse>);
    default:
      return nullptr;
  }
}

struct OpCounts {
  size_t typed = 0;        // payloads that round-tripped through their type
  size_t not_modeled = 0;  // payloads of operations without a type
  size_t allowed = 0;      // payloads on the allow-list
  size_t failed = 0;
};

std::string OpLabel(Operation op) {
  std::string_view name = OperationName(op);
  return name.empty() ? "op " + std::to_string(static_cast<uint32_t>(op)) : std::string(name);
}

std::vector<uint8_t> ToVec(const ttlv::Bytes& b) { return {b.begin(), b.end()}; }

TEST(KmipTypedTestCases, EveryMessageAndPayloadRoundTrips) {
  const std::vector<fs::path> files = TestCaseFiles();
  ASSERT_FALSE(files.empty()) << "no OASIS test cases under " << TestCaseDir();
  std::map<std::string, OpCounts> counts;
  size_t messages = 0;
  size_t failures = 0;
  std::set<std::string> allow_used;
  for (const fs::path& file : files) {
    SCOPED_TRACE(file.string());
    Result<std::vector<Item>> items = ttlv::ParseXml(ReadFile(file));
    ASSERT_TRUE(items.ok()) << items.status().ToString();
    ttlv::PlaceholderMap placeholders;
    for (size_t i = 0; i < items->size(); ++i) {
      Result<ttlv::Bytes> wire = ttlv::Encode((*items)[i], &placeholders);
      ASSERT_TRUE(wire.ok()) << "message " << i << ": " << wire.status().ToString();
      Result<Item> decoded = ttlv::Decode(ToVec(*wire));
      ASSERT_TRUE(decoded.ok()) << "message " << i << ": " << decoded.status().ToString();
      const Item& msg = *decoded;
      const bool request = msg.tag() == 0x420078;  // Request Message

      // The message layer.
      ProtocolVersion version;
      std::vector<std::pair<std::optional<Operation>, const Item*>> payloads;
      std::optional<RequestMessage> req;
      std::optional<ResponseMessage> resp;
      if (request) {
        Result<RequestMessage> m = DecodeRequest(msg);
        ASSERT_TRUE(m.ok()) << "message " << i << ": " << m.status().ToString();
        Result<Item> again = EncodeRequest(*m);
        ASSERT_TRUE(again.ok()) << "message " << i << ": " << again.status().ToString();
        ASSERT_TRUE(*again == msg) << "message " << i << " differs after Encode/DecodeRequest";
        req = std::move(*m);
        version = req->version;
        for (const RequestBatchItem& b : req->items) payloads.push_back({b.operation, &b.payload});
      } else {
        Result<ResponseMessage> m = DecodeResponse(msg);
        ASSERT_TRUE(m.ok()) << "message " << i << ": " << m.status().ToString();
        Result<Item> again = EncodeResponse(*m);
        ASSERT_TRUE(again.ok()) << "message " << i << ": " << again.status().ToString();
        ASSERT_TRUE(*again == msg) << "message " << i << " differs after Encode/DecodeResponse";
        resp = std::move(*m);
        version = resp->version;
        for (const ResponseBatchItem& b : resp->items) {
          // Failed items have no payload (KMIP 1.4 §7.3).
          if (!b.payload) continue;
          payloads.push_back({b.operation, &*b.payload});
        }
      }
      ++messages;

      // The payload layer.
      for (size_t j = 0; j < payloads.size(); ++j) {
        const auto& [op, payload] = payloads[j];
        ASSERT_TRUE(op.has_value()) << "message " << i << ": a payload without an Operation";
        OpCounts& c = counts[OpLabel(*op)];
        Checker check = CheckerFor(*op, request);
        if (!check) {
          ++c.not_modeled;
          continue;
        }
        const std::string key =
            file.filename().string() + "#" + std::to_string(i) + "#" + std::to_string(j);
        Status s = check(*payload, version);
        if (AllowList().count(key) != 0) {
          allow_used.insert(key);
          ++c.allowed;
          continue;
        }
        if (s.ok()) {
          ++c.typed;
          continue;
        }
        ++c.failed;
        ++failures;
        ADD_FAILURE() << key << " (" << OpLabel(*op) << (request ? " request" : " response")
                      << ", KMIP " << version.ToString() << "): " << s.ToString();
      }
    }
  }

  std::cout << "Typed round trips of the OASIS test cases: " << messages << " messages\n"
            << std::left << std::setw(22) << "operation" << std::right << std::setw(8) << "typed"
            << std::setw(13) << "not modeled" << std::setw(9) << "allowed" << std::setw(8)
            << "failed"
            << "\n";
  OpCounts total;
  for (const auto& [name, c] : counts) {
    std::cout << std::left << std::setw(22) << name << std::right << std::setw(8) << c.typed
              << std::setw(13) << c.not_modeled << std::setw(9) << c.allowed << std::setw(8)
              << c.failed << "\n";
    total.typed += c.typed;
    total.not_modeled += c.not_modeled;
    total.allowed += c.allowed;
    total.failed += c.failed;
  }
  std::cout << std::left << std::setw(22) << "total" << std::right << std::setw(8) << total.typed
            << std::setw(13) << total.not_modeled << std::setw(9) << total.allowed << std::setw(8)
            << total.failed << "\n";
  EXPECT_EQ(failures, 0u);
  // Every allow-list entry must still be needed.
  for (const std::string& key : AllowList()) {
    EXPECT_EQ(allow_used.count(key), 1u) << "stale allow-list entry " << key;
  }
  EXPECT_GT(total.typed, 1000u);
  // 75 KMIP 1.4 and 93 KMIP 2.1 files.
  EXPECT_EQ(files.size(), 168u);
}

}  // namespace
}  // namespace vmcrypt::kmip
