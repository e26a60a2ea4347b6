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
//      because the request had none.
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
  // bound value under the request's tag. Errors: a placeholder not bound yet,
  // or bound to a value of another type.
  Result<ttlv::Item> PrepareRequest(const ttlv::Item& request) const;

  // Compares `actual` with `expected`, binding placeholders met for the first
  // time. Returns nullopt if they match, else the first difference as
  // "/ResponseMessage/BatchItem[0]/ResponsePayload/UniqueIdentifier: expected
  // "$UNIQUE_IDENTIFIER_0" = "a", got "b"". Bindings made before a difference
  // are kept (the document is abandoned at the first difference anyway).
  std::optional<std::string> Compare(const ttlv::Item& expected, const ttlv::Item& actual);

  // The placeholders bound so far, by text.
  const std::map<std::string, ttlv::Item>& bindings() const { return bindings_; }

 private:
  std::optional<std::string> CompareAt(const ttlv::Item& expected, const ttlv::Item& actual,
                                       const std::string& path, uint32_t parent_tag);

  std::function<int64_t()> now_;
  std::map<std::string, ttlv::Item> bindings_;
  int major_ = 1;  // of the message being compared, for names in paths
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
