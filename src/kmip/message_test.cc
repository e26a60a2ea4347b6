#include "vmcrypt/kmip/message.h"

#include <gtest/gtest.h>

#include "vmcrypt/ttlv/tags.h"

namespace vmcrypt::kmip {
namespace {

using ttlv::Item;
namespace tag = ttlv::tag;

ttlv::Bytes Id(uint8_t b) { return ttlv::Bytes{b, 0x01}; }

RequestMessage TwoItemRequest(ProtocolVersion v) {
  RequestMessage m;
  m.version = v;
  m.maximum_response_size = 4096;
  m.batch_order_option = true;
  RequestBatchItem a;
  a.operation = Operation::kQuery;
  a.unique_batch_item_id = Id(1);
  a.payload.Add(Item::Enumeration(tag::kQueryFunction, 1));
  RequestBatchItem b;
  b.operation = Operation::kDestroy;
  b.unique_batch_item_id = Id(2);
  b.payload.Add(Item::TextString(tag::kUniqueIdentifier, "k1"));
  m.items = {a, b};
  return m;
}

TEST(MessageTest, RequestRoundTripsWithUniqueBatchItemIds) {
  const RequestMessage m = TwoItemRequest(kKmip14);
  Result<Item> item = EncodeRequest(m);
  ASSERT_TRUE(item.ok()) << item.status().ToString();
  EXPECT_EQ(item->tag(), tag::kRequestMessage);
  EXPECT_EQ(item->Find(tag::kRequestHeader)->Find(tag::kBatchCount)->int_value(), 2);
  Result<RequestMessage> back = DecodeRequest(*item);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->version, kKmip14);
  EXPECT_EQ(back->maximum_response_size, 4096);
  ASSERT_EQ(back->items.size(), 2u);
  EXPECT_EQ(back->items[1].operation, Operation::kDestroy);
  EXPECT_EQ(back->items[0].unique_batch_item_id, Id(1));
  EXPECT_EQ(back->items[1].unique_batch_item_id, Id(2));
  EXPECT_EQ(back->items[1].payload.Find(tag::kUniqueIdentifier)->text(), "k1");
  Result<Item> again = EncodeRequest(*back);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *item);
  EXPECT_EQ(PeekVersion(*item), kKmip14);
}

TEST(MessageTest, ResponseRoundTripsWithAFailedItem) {
  ResponseMessage m;
  m.version = kKmip21;
  m.time_stamp = 1700000000;
  ResponseBatchItem ok;
  ok.operation = Operation::kCreate;
  ok.unique_batch_item_id = Id(1);
  ok.payload =
      Item::Structure(tag::kResponsePayload, {Item::TextString(tag::kUniqueIdentifier, "k1")});
  ResponseBatchItem failed;
  failed.operation = Operation::kGet;
  failed.unique_batch_item_id = Id(2);
  failed.status = ResultStatus::kOperationFailed;
  failed.reason = ResultReason::kItemNotFound;
  failed.message = "no such key";
  m.items = {ok, failed};
  Result<Item> item = EncodeResponse(m);
  ASSERT_TRUE(item.ok()) << item.status().ToString();
  Result<ResponseMessage> back = DecodeResponse(*item);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->items.size(), 2u);
  EXPECT_TRUE(back->items[0].ok());
  EXPECT_FALSE(back->items[1].ok());
  EXPECT_FALSE(back->items[1].payload.has_value());
  const Status s = back->items[1].ToStatus();
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "Item Not Found: no such key");
  Result<Item> again = EncodeResponse(*back);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *item);
  EXPECT_EQ(PeekVersion(*item), kKmip21);
}

TEST(MessageTest, BatchCountMismatchIsAnError) {
  Result<Item> item = EncodeRequest(TwoItemRequest(kKmip14));
  ASSERT_TRUE(item.ok());
  Item* count = item->FindMutable(tag::kRequestHeader)->FindMutable(tag::kBatchCount);
  *count = Item::Integer(tag::kBatchCount, 3);
  Result<RequestMessage> back = DecodeRequest(*item);
  ASSERT_FALSE(back.ok());
  EXPECT_NE(back.status().message().find("Batch Count"), std::string::npos);
}

TEST(MessageTest, UnknownHeaderFieldIsAnError) {
  Result<Item> item = EncodeRequest(TwoItemRequest(kKmip14));
  ASSERT_TRUE(item.ok());
  item->FindMutable(tag::kRequestHeader)->Add(Item::TextString(tag::kNameValue, "surprise"));
  EXPECT_FALSE(DecodeRequest(*item).ok());
  // And an unknown field in a batch item.
  Result<Item> item2 = EncodeRequest(TwoItemRequest(kKmip14));
  ASSERT_TRUE(item2.ok());
  item2->FindMutable(tag::kBatchItem)->Add(Item::Integer(tag::kMaximumItems, 1));
  EXPECT_FALSE(DecodeRequest(*item2).ok());
}

TEST(MessageTest, HeaderFieldsAreStrictPerVersion) {
  RequestMessage m = TwoItemRequest(kKmip12);
  m.client_correlation_value = "c-1";
  Result<Item> item = EncodeRequest(m);
  ASSERT_FALSE(item.ok());
  EXPECT_NE(item.status().message().find("1.4"), std::string::npos);
  m.version = kKmip14;
  EXPECT_TRUE(EncodeRequest(m).ok());

  RequestMessage eph = TwoItemRequest(kKmip14);
  eph.items[0].ephemeral = true;
  EXPECT_FALSE(EncodeRequest(eph).ok());
  eph.version = kKmip20;
  EXPECT_TRUE(EncodeRequest(eph).ok());

  RequestMessage att = TwoItemRequest(kKmip11);
  att.attestation_capable_indicator = true;
  EXPECT_FALSE(EncodeRequest(att).ok());

  ResponseMessage r;
  r.version = kKmip14;
  r.server_hashed_password = ttlv::Bytes{1, 2};
  EXPECT_FALSE(EncodeResponse(r).ok());
}

TEST(MessageTest, RejectsOtherItems) {
  EXPECT_FALSE(DecodeRequest(Item::Structure(tag::kResponseMessage)).ok());
  EXPECT_FALSE(DecodeResponse(Item::Structure(tag::kRequestMessage)).ok());
  // A request without batch items.
  RequestMessage m = TwoItemRequest(kKmip14);
  m.items.clear();
  Result<Item> item = EncodeRequest(m);
  ASSERT_TRUE(item.ok());
  EXPECT_FALSE(DecodeRequest(*item).ok());
  EXPECT_FALSE(PeekVersion(Item::Structure(tag::kRequestMessage)).has_value());
}

}  // namespace
}  // namespace vmcrypt::kmip
