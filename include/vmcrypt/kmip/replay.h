// kmip::Replay: runs an OASIS KMIP test case (a <KMIP> document of
// alternating Request and Response Messages, KMIP Test Cases v1.4 / v2.1)
// against a server and compares each actual response with the expected one.
//
// The documents hold placeholders ("$UNIQUE_IDENTIFIER_0", "$NOW-3600", ...).
// A ReplaySession learns them: a placeholder that appears in an *expected*
// response is bound, the first time, to the actual value at the same place
// (expected and actual trees are walked in parallel) and must have that same
// value everywhere after; in requests, bound placeholders are replaced by
// their values and $NOW[+-N] by the current time [+-N seconds].
//
// The comparison is structural (tags, types, order and values) and tolerates
// exactly these differences (docs/kmip-replay.md):
//   1. a value that is a placeholder in the expected response (bound as above;
//      $NOW[+-N] matches any value of the expected type);
//   2. the value of the response header's Time Stamp;
//   3. the text of a batch item's Result Message (not its presence);
//   4. a Unique Batch Item ID in the actual response that the client added
//      because the request had none;
//   5. a value the server drew at random: the key material and Digest Value
//      of an object this session had the server generate (Create, Create Key
//      Pair, Derive Key, Re-Key, Re-Key Key Pair), the output of Encrypt,
//      Decrypt, MAC or Sign with such an object, and RNG Retrieve Data. It
//      must keep its type and length; it is then bound like a placeholder
//      (expected -> actual), so a later request repeating the expected value
//      sends the actual one, and the answer to such a request is compared
//      exactly.
//
// The network stays out: ReplayDocument() takes a SendFn, so tests can
// substitute a fake server.
//
// Thread-safety: ReplaySession is a value with no sharing; one per document.
#ifndef VMCRYPT_KMIP_REPLAY_H_
#define VMCRYPT_KMIP_REPLAY_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "vmcrypt/base/status.h"
#include "vmcrypt/kmip/message.h"
#include "vmcrypt/ttlv/item.h"

namespace vmcrypt::kmip {

// The placeholder text of `item` if it is one: a placeholder leaf, or a Text
// String of the form "$NAME" (upper-case letters, digits and '_', optionally
// followed by +N or -N), as the XML test cases write Unique Identifiers.
std::optional<std::string> PlaceholderText(const ttlv::Item& item);

// For "$NOW", "$NOW+N", "$NOW-N": the offset N in seconds (0 for "$NOW");
// nullopt for any other text.
std::optional<int64_t> NowOffset(std::string_view placeholder);

class ReplaySession {
 public:
  // `now` returns the current time in seconds since the POSIX epoch.
  explicit ReplaySession(std::function<int64_t()> now);

  // Returns `request` with every placeholder replaced: $NOW[+-N] by now()+-N
  // (as a Date-Time, or Date-Time Extended in microseconds), others by their
  // bound value under the request's tag; and every Byte String or Big
  // Integer equal to an expected random value (difference 5) by the actual
  // one. Remembers which batch items got such a value, for the next
  // Compare(). Errors: a placeholder not bound yet, or bound to a value of
  // another type.
  Result<ttlv::Item> PrepareRequest(const ttlv::Item& request);

  // Compares `actual` with `expected`, binding placeholders met for the first
  // time. Returns nullopt if they match, else the first difference as
  // "/ResponseMessage/BatchItem[0]/ResponsePayload/UniqueIdentifier: expected
  // "$UNIQUE_IDENTIFIER_0" = "a", got "b"". Bindings made before a difference
  // are kept (the document is abandoned at the first difference anyway).
  std::optional<std::string> Compare(const ttlv::Item& expected, const ttlv::Item& actual);

  // The placeholders bound so far, by text.
  const std::map<std::string, ttlv::Item>& bindings() const { return bindings_; }
  // The Unique Identifiers of the objects the server generated so far.
  const std::set<std::string>& generated() const { return generated_; }

 private:
  // What the batch item being compared is about (difference 5).
  struct ItemContext {
    uint32_t operation = 0;
    std::string uid;           // the actual response payload's Unique Identifier
    bool substituted = false;  // its request carried an actual random value
  };

  Result<ttlv::Item> PrepareAt(const ttlv::Item& request, int batch_index);
  std::optional<std::string> CompareAt(const ttlv::Item& expected, const ttlv::Item& actual,
                                       const std::string& path, uint32_t parent_tag);
  // Sets item_ from an actual Batch Item and records the objects it generated.
  void EnterBatchItem(const ttlv::Item& actual);
  // Whether the leaf `expected` (child of `parent_tag`) is a value the server
  // drew at random, in the current batch item (difference 5).
  bool DrawnAtRandom(const ttlv::Item& expected, uint32_t parent_tag) const;

  std::function<int64_t()> now_;
  std::map<std::string, ttlv::Item> bindings_;
  std::set<std::string> generated_;
  std::vector<std::pair<ttlv::Item, ttlv::Item>> drawn_;  // expected -> actual
  std::set<int> substituted_items_;                       // request batch items with a drawn value
  ItemContext item_;
  int batch_index_ = 0;      // of the response batch item being compared
  int key_value_depth_ = 0;  // > 0 inside a Key Value
  int major_ = 1;            // of the message being compared, for names in paths
};

// Sends one request (in its own protocol version) and returns the response;
// items in request order. Transport failures are errors.
using SendFn = std::function<Result<ResponseMessage>(const RequestMessage&)>;

struct ReplayOutcome {
  bool passed = false;
  // Empty on success; else "message N: <first difference>" where N counts
  // request/response pairs from 1, or the error that stopped the replay.
  std::string failure;
};

// Replays a parsed test-case document (ttlv::ParseXml of the file): each
// Request Message is prepared, decoded, sent with `send`, and its response
// compared with the Response Message that follows it. Stops at the first
// difference or error. A document that is not alternating Request/Response
// Messages fails with a message saying so.
ReplayOutcome ReplayDocument(const std::vector<ttlv::Item>& messages, const SendFn& send,
                             std::function<int64_t()> now);

}  // namespace vmcrypt::kmip

#endif  // VMCRYPT_KMIP_REPLAY_H_
