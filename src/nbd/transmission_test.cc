// The transmission phase: commands, flags, replies and error values
// (proto.md "Transmission", "Request types", "Error values").
#include <sys/stat.h>

#include <set>

#include "protocol.h"
#include "test_fixture.h"

namespace vmcrypt::nbd::testing {
namespace {

using namespace proto;  // NOLINT

std::vector<uint8_t> FileBytes(FileDevice* dev, uint64_t offset, size_t n) {
  std::vector<uint8_t> out(n);
  EXPECT_TRUE(dev->Read(offset, out).ok());
  return out;
}

TEST_F(NbdTest, WriteThenReadBackSimpleReplies) {
  StartDefault();
  TestClient c = Client();
  c.Connect("disk");
  const auto data = Pattern(64 << 10, 3);
  EXPECT_EQ(c.Write(8192, data), 0u);
  std::vector<uint8_t> out;
  EXPECT_EQ(c.Read(8192, data.size(), &out), 0u);
  EXPECT_EQ(out, data);
  // It reached the file at the same offset.
  EXPECT_EQ(FileBytes(disk_, 8192, data.size()), data);
  // Unaligned byte ranges are fine on a min_block_size 1 export.
  EXPECT_EQ(c.Write(3, {1, 2, 3}), 0u);
  EXPECT_EQ(c.Read(2, 5, &out), 0u);
  EXPECT_EQ(out, (std::vector<uint8_t>{0, 1, 2, 3, 0}));
}

TEST_F(NbdTest, StructuredReadIsOneOffsetDataChunkMarkedDone) {
  StartDefault();
  TestClient c = Client();
  c.Connect("disk", /*structured=*/true);
  const auto data = Pattern(4096, 9);
  EXPECT_EQ(c.Write(4096, data), 0u);  // non-read commands keep simple replies
  c.SendRequest(0, kCmdRead, 77, 4096, 4096);
  auto chunk = c.ReadChunk();
  ASSERT_TRUE(chunk);
  EXPECT_EQ(chunk->magic, kStructuredReplyMagic);
  EXPECT_EQ(chunk->flags, kReplyFlagDone);
  EXPECT_EQ(chunk->type, kReplyTypeOffsetData);
  EXPECT_EQ(chunk->handle, 77u);
  ASSERT_EQ(chunk->payload.size(), 8u + 4096);
  EXPECT_EQ(GetU64(chunk->payload.data()), 4096u);
  EXPECT_EQ(std::vector<uint8_t>(chunk->payload.begin() + 8, chunk->payload.end()), data);
  // DF is accepted with structured replies.
  c.SendRequest(kCmdFlagDf, kCmdRead, 78, 0, 512);
  chunk = c.ReadChunk();
  ASSERT_TRUE(chunk);
  EXPECT_EQ(chunk->type, kReplyTypeOffsetData);
}

TEST_F(NbdTest, StructuredErrorsCarryAMessage) {
  StartDefault();
  TestClient c = Client();
  c.Connect("disk", true);
  c.SendRequest(0, kCmdRead, 5, kSize, 512);
  auto chunk = c.ReadChunk();
  ASSERT_TRUE(chunk);
  EXPECT_EQ(chunk->flags, kReplyFlagDone);
  EXPECT_EQ(chunk->type, kReplyTypeError);
  EXPECT_EQ(chunk->handle, 5u);
  ASSERT_GE(chunk->payload.size(), 6u);
  EXPECT_EQ(GetU32(chunk->payload.data()), kEinval);
  const uint16_t len = GetU16(chunk->payload.data() + 4);
  ASSERT_EQ(chunk->payload.size(), 6u + len);
  EXPECT_NE(std::string(chunk->payload.begin() + 6, chunk->payload.end()).find("end"),
            std::string::npos);
  // A zero-length read is a NONE chunk.
  c.SendRequest(0, kCmdRead, 6, 0, 0);
  chunk = c.ReadChunk();
  ASSERT_TRUE(chunk);
  EXPECT_EQ(chunk->type, kReplyTypeNone);
  EXPECT_EQ(chunk->flags, kReplyFlagDone);
  EXPECT_TRUE(chunk->payload.empty());
}

TEST_F(NbdTest, OutOfBoundsReadIsEinvalWriteIsEnospcAndTheStreamStaysInSync) {
  StartDefault();
  TestClient c = Client();
  c.Connect("disk");
  std::vector<uint8_t> out;
  EXPECT_EQ(c.Read(kSize - 512, 1024, &out), kEinval);
  EXPECT_EQ(c.Read(~uint64_t{0} - 10, 512, &out), kEinval);  // offset + length overflows
  EXPECT_EQ(c.Write(kSize - 512, Pattern(1024, 1)), kEnospc);
  EXPECT_EQ(c.Command(kCmdTrim, kSize, 4096), kEnospc);
  EXPECT_EQ(c.Command(kCmdWriteZeroes, kSize - 4096, 8192), kEnospc);
  // The rejected write's payload was consumed: the next request parses.
  EXPECT_EQ(c.Read(kSize - 512, 512, &out), 0u);
  EXPECT_EQ(out, std::vector<uint8_t>(512, 0));
}

TEST_F(NbdTest, RequestsOver32MiBGetEinvalAndTheConnectionSurvives) {
  disk_ = AddFile("big", 64 << 20);
  StartServer({{"big", disk_, ""}});
  TestClient c = Client();
  c.Connect("big");
  std::vector<uint8_t> out;
  EXPECT_EQ(c.Read(0, (32 << 20) + 512, &out), kEinval);
  EXPECT_EQ(c.Write(0, std::vector<uint8_t>((32 << 20) + 512, 0xee)), kEinval);
  EXPECT_EQ(FileBytes(disk_, 0, 512), std::vector<uint8_t>(512, 0));  // nothing written
  // Exactly 32 MiB is fine, and trims larger than 32 MiB carry no payload.
  EXPECT_EQ(c.Write(0, std::vector<uint8_t>(32 << 20, 0x11)), 0u);
  EXPECT_EQ(c.Command(kCmdTrim, 0, 48 << 20), 0u);
  EXPECT_EQ(c.Read(0, 4096, &out), 0u);
  EXPECT_EQ(out, std::vector<uint8_t>(4096, 0));
}

TEST_F(NbdTest, UnknownCommandsAndFlagsAreEinval) {
  StartDefault();
  TestClient c = Client();
  c.Connect("disk");
  EXPECT_EQ(c.Command(kCmdCache, 0, 512), kEinval);
  EXPECT_EQ(c.Command(kCmdBlockStatus, 0, 512), kEinval);
  EXPECT_EQ(c.Command(99, 0, 512), kEinval);
  EXPECT_EQ(c.Command(kCmdRead, 0, 512, kCmdFlagDf), kEinval);  // DF needs structured replies
  EXPECT_EQ(c.Command(kCmdTrim, 0, 512, kCmdFlagNoHole), kEinval);
  EXPECT_EQ(c.Command(kCmdWriteZeroes, 0, 512, kCmdFlagFastZero), kEinval);
  EXPECT_EQ(c.Command(kCmdFlush, 0, 0, 0x8000), kEinval);
  // A write with a bad flag still has its payload consumed.
  EXPECT_EQ(c.Write(0, Pattern(512, 4), kCmdFlagNoHole), kEinval);
  EXPECT_EQ(c.Command(kCmdFlush, 0, 0, kCmdFlagFua), 0u);  // FUA is valid everywhere
}

TEST_F(NbdTest, TrimPunchesAHoleAndReadsZeros) {
  StartDefault();
  TestClient c = Client();
  c.Connect("disk");
  ASSERT_EQ(c.Write(0, Pattern(1 << 20, 5)), 0u);
  ASSERT_EQ(c.Command(kCmdFlush, 0, 0), 0u);
  struct stat before {};
  ASSERT_EQ(::stat((dir_ + "/disk.img").c_str(), &before), 0);
  EXPECT_EQ(c.Command(kCmdTrim, 0, 1 << 20, kCmdFlagFua), 0u);
  struct stat after {};
  ASSERT_EQ(::stat((dir_ + "/disk.img").c_str(), &after), 0);
  EXPECT_LT(after.st_blocks, before.st_blocks);
  std::vector<uint8_t> out;
  EXPECT_EQ(c.Read(0, 1 << 20, &out), 0u);
  EXPECT_EQ(out, std::vector<uint8_t>(1 << 20, 0));
}

TEST_F(NbdTest, WriteZeroesAndNoHoleKeepsTheRangeAllocated) {
  WrappedDevice dev(AddFile("wz"));
  StartServer({{"wz", &dev, ""}});
  TestClient c = Client();
  c.Connect("wz");
  ASSERT_EQ(c.Write(0, Pattern(1 << 20, 6)), 0u);
  EXPECT_EQ(c.Command(kCmdWriteZeroes, 0, 512 << 10), 0u);
  EXPECT_EQ(dev.write_zeroes_.load(), 1);
  const int writes_before = dev.writes_started_.load();
  EXPECT_EQ(c.Command(kCmdWriteZeroes, 512 << 10, 512 << 10, kCmdFlagNoHole | kCmdFlagFua), 0u);
  // NO_HOLE went through real writes, not the hole-punching call.
  EXPECT_EQ(dev.write_zeroes_.load(), 1);
  EXPECT_GT(dev.writes_started_.load(), writes_before);
  EXPECT_GE(dev.flushes_.load(), 1);
  std::vector<uint8_t> out;
  EXPECT_EQ(c.Read(0, 1 << 20, &out), 0u);
  EXPECT_EQ(out, std::vector<uint8_t>(1 << 20, 0));
  struct stat st {};
  ASSERT_EQ(::stat((dir_ + "/wz.img").c_str(), &st), 0);
  EXPECT_GE(st.st_blocks * 512, 512 << 10);  // the NO_HOLE half is allocated
}

TEST_F(NbdTest, FuaWriteAndFlushReachTheDevice) {
  WrappedDevice dev(AddFile("fua"));
  StartServer({{"fua", &dev, ""}});
  TestClient c = Client();
  c.Connect("fua");
  EXPECT_EQ(c.Write(0, Pattern(4096, 1), kCmdFlagFua), 0u);
  EXPECT_EQ(c.Command(kCmdFlush, 0, 0), 0u);
  EXPECT_EQ(dev.flushes_.load(), 1);  // FUA went down with the write itself
}

TEST_F(NbdTest, ReadOnlyExportRefusesWritesWithEperm) {
  WrappedDevice ro(AddFile("ro"));
  ro.read_only_ = true;
  StartServer({{"ro", &ro, ""}});
  TestClient c = Client();
  c.Connect("ro");
  EXPECT_EQ(c.Write(0, Pattern(512, 1)), kEperm);
  EXPECT_EQ(c.Command(kCmdTrim, 0, 512), kEperm);
  EXPECT_EQ(c.Command(kCmdWriteZeroes, 0, 512), kEperm);
  std::vector<uint8_t> out;
  EXPECT_EQ(c.Read(0, 512, &out), 0u);
}

TEST_F(NbdTest, MisalignedRequestsAreEinvalOnAnAlignedExport) {
  WrappedDevice aligned(AddFile("aligned"));
  aligned.min_block_ = 512;
  StartServer({{"aligned", &aligned, ""}});
  TestClient c = Client();
  c.Connect("aligned");
  std::vector<uint8_t> out;
  EXPECT_EQ(c.Read(100, 512, &out), kEinval);
  EXPECT_EQ(c.Read(0, 100, &out), kEinval);
  EXPECT_EQ(c.Write(512, Pattern(100, 1)), kEinval);
  EXPECT_EQ(c.Command(kCmdTrim, 1, 512), kEinval);
  EXPECT_EQ(aligned.writes_started_.load(), 0);
  EXPECT_EQ(c.Write(512, Pattern(512, 1)), 0u);
}

TEST_F(NbdTest, DeviceErrorsAreEioWithoutLeakingTheCause) {
  WrappedDevice bad(AddFile("bad"));
  bad.fail_writes_ = true;
  StartServer({{"bad", &bad, ""}});
  TestClient c = Client();
  c.Connect("bad", true);
  c.SendRequest(0, kCmdWrite, 9, 0, 512, Pattern(512, 1));
  auto chunk = c.ReadChunk();
  ASSERT_TRUE(chunk);
  EXPECT_EQ(chunk->type, kReplyTypeError);
  EXPECT_EQ(GetU32(chunk->payload.data()), kEio);
  const std::string text(chunk->payload.begin() + 6, chunk->payload.end());
  EXPECT_EQ(text.find("/secret/path"), std::string::npos);
}

TEST_F(NbdTest, PipelinedRequestsAreAllAnsweredWithTheirHandles) {
  StartDefault();
  TestClient c = Client();
  c.Connect("disk");
  for (uint64_t i = 0; i < 16; ++i) {
    c.SendRequest(0, kCmdWrite, 1000 + i, i * 4096, 4096, Pattern(4096, static_cast<uint8_t>(i)));
  }
  // Replies may come in any order (several workers serve one connection).
  std::set<uint64_t> handles;
  for (uint64_t i = 0; i < 16; ++i) {
    auto r = c.ReadSimpleReply();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->error, 0u);
    handles.insert(r->handle);
  }
  EXPECT_EQ(handles.size(), 16u);
  EXPECT_EQ(*handles.begin(), 1000u);
  EXPECT_EQ(*handles.rbegin(), 1015u);
  for (uint64_t i = 0; i < 16; ++i) c.SendRequest(0, kCmdRead, 2000 + i, i * 4096, 4096);
  handles.clear();
  for (uint64_t i = 0; i < 16; ++i) {
    auto r = c.ReadSimpleReply();
    ASSERT_TRUE(r);
    ASSERT_GE(r->handle, 2000u);
    ASSERT_LT(r->handle, 2016u);
    handles.insert(r->handle);
    auto data = c.Recv(4096);
    ASSERT_TRUE(data);
    EXPECT_EQ(*data, Pattern(4096, static_cast<uint8_t>(r->handle - 2000)));
  }
  EXPECT_EQ(handles.size(), 16u);
}

TEST_F(NbdTest, RequestsOfOneConnectionAreServedInParallel) {
  WrappedDevice slow(AddFile("slow"));
  slow.write_delay_ = std::chrono::milliseconds(300);
  StartServer({{"slow", &slow, ""}});  // 4 threads per connection by default
  TestClient c = Client();
  c.Connect("slow");
  const auto start = std::chrono::steady_clock::now();
  for (uint64_t i = 0; i < 4; ++i) c.SendRequest(0, kCmdWrite, i, i * 4096, 4096, Pattern(4096, 1));
  for (int i = 0; i < 4; ++i) {
    auto r = c.ReadSimpleReply();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->error, 0u);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1100));
}

TEST_F(NbdTest, OneThreadPerConnectionAnswersInOrder) {
  disk_ = AddFile("disk");
  ServerOptions options;
  options.threads_per_connection = 1;
  StartServer({{"disk", disk_, ""}}, options);
  TestClient c = Client();
  c.Connect("disk", true);
  for (uint64_t i = 0; i < 8; ++i) {
    c.SendRequest(0, kCmdWrite, 10 + i, i * 512, 512, Pattern(512, static_cast<uint8_t>(i)));
    c.SendRequest(0, kCmdRead, 20 + i, i * 512, 512);
  }
  for (uint64_t i = 0; i < 8; ++i) {
    auto w = c.ReadSimpleReply();
    ASSERT_TRUE(w);
    EXPECT_EQ(w->handle, 10 + i);
    auto chunk = c.ReadChunk();
    ASSERT_TRUE(chunk);
    EXPECT_EQ(chunk->handle, 20 + i);
    EXPECT_EQ(std::vector<uint8_t>(chunk->payload.begin() + 8, chunk->payload.end()),
              Pattern(512, static_cast<uint8_t>(i)));
  }
}

TEST_F(NbdTest, DiscClosesAfterEarlierRequestsAndBadMagicDisconnects) {
  StartDefault();
  TestClient c = Client();
  c.Connect("disk");
  c.SendRequest(0, kCmdWrite, 1, 0, 512, Pattern(512, 2));
  c.SendRequest(0, kCmdDisc, 2, 0, 0);
  auto r = c.ReadSimpleReply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->error, 0u);
  EXPECT_TRUE(c.Closed());
  EXPECT_EQ(FileBytes(disk_, 0, 512), Pattern(512, 2));

  TestClient d = Client();
  d.Connect("disk");
  d.Send(std::vector<uint8_t>(28, 0x5a));
  EXPECT_TRUE(d.Closed());
}

}  // namespace
}  // namespace vmcrypt::nbd::testing
