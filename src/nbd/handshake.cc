// The fixed newstyle handshake and option haggling (proto.md "Newstyle
// negotiation", "Fixed newstyle negotiation", "Option types").
#include <cstring>

#include "connection.h"
#include "protocol.h"
#include "socket_io.h"
#include "vmcrypt/base/byte_reader.h"

namespace vmcrypt::nbd {

using namespace proto;  // NOLINT: wire constants

namespace {

Result<uint16_t> ReadU16(ByteReader& r, std::string_view what) {
  ASSIGN_OR_RETURN(auto b, r.ReadBytes(2, what));
  return static_cast<uint16_t>((b[0] << 8) | b[1]);
}

std::string_view AsText(std::span<const uint8_t> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

}  // namespace

void Connection::Log(const std::string& line) const {
  if (*log_) (*log_)("nbd " + peer_ + ": " + line);
}

const Export* Connection::FindExport(std::string_view name) const {
  // The empty name is the "default" export (proto.md NBD_OPT_EXPORT_NAME):
  // ours is the only export when there is just one.
  if (name.empty() && exports_->size() == 1) return &exports_->front();
  for (const Export& e : *exports_) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

uint16_t Connection::TransmissionFlags(const Export& e) const {
  // CAN_MULTI_CONN: BlockDevice::Flush makes every completed write durable,
  // whichever connection made it, and there is no per-connection cache.
  uint16_t flags = kFlagHasFlags | kFlagSendFlush | kFlagSendFua | kFlagCanMultiConn;
  if (e.device->read_only()) {
    flags |= kFlagReadOnly;
  } else {
    flags |= kFlagSendTrim | kFlagSendWriteZeroes;
  }
  // DF is only meaningful with structured replies, and we always answer a
  // read with one content chunk.
  if (structured_) flags |= kFlagSendDf;
  return flags;
}

Status Connection::SendOptionReply(uint32_t option, uint32_t type, std::span<const uint8_t> data) {
  uint8_t header[20];
  PutU64(header, kOptReplyMagic);
  PutU32(header + 8, option);
  PutU32(header + 12, type);
  PutU32(header + 16, static_cast<uint32_t>(data.size()));
  const iovec iov[2] = {{header, sizeof(header)}, {const_cast<uint8_t*>(data.data()), data.size()}};
  return WriteFull(fd_, iov);
}

Status Connection::SendOptionError(uint32_t option, uint32_t type, std::string_view message) {
  return SendOptionReply(
      option, type, std::span(reinterpret_cast<const uint8_t*>(message.data()), message.size()));
}

Status Connection::Handshake() {
  SetReceiveTimeout(fd_, options_->handshake_timeout);
  uint8_t hello[18];
  PutU64(hello, kNbdMagic);
  PutU64(hello + 8, kIHaveOpt);
  PutU16(hello + 16, kFlagFixedNewstyle | kFlagNoZeroes);
  RETURN_IF_ERROR(WriteFull(fd_, hello));

  uint8_t cflags_raw[4];
  RETURN_IF_ERROR(ReadFull(fd_, cflags_raw));
  const uint32_t cflags = (uint32_t{cflags_raw[0]} << 24) | (uint32_t{cflags_raw[1]} << 16) |
                          (uint32_t{cflags_raw[2]} << 8) | cflags_raw[3];
  // proto.md "Client flags": an unknown flag means the server MUST drop the
  // connection.
  if ((cflags & ~(kClientFlagFixedNewstyle | kClientFlagNoZeroes)) != 0) {
    return InvalidArgumentError("client sent unknown handshake flags");
  }
  fixed_newstyle_ = (cflags & kClientFlagFixedNewstyle) != 0;
  no_zeroes_ = (cflags & kClientFlagNoZeroes) != 0;

  std::vector<uint8_t> data;
  for (int count = 0; count < kMaxOptions; ++count) {
    uint8_t header[16];
    RETURN_IF_ERROR(ReadFull(fd_, header));
    ByteReader r(header);
    ASSIGN_OR_RETURN(const uint64_t magic, r.ReadU64Be("option magic"));
    ASSIGN_OR_RETURN(const uint32_t option, r.ReadU32Be("option"));
    ASSIGN_OR_RETURN(const uint32_t length, r.ReadU32Be("option length"));
    if (magic != kIHaveOpt) return InvalidArgumentError("bad option magic");
    if (length > kMaxOptionLength) {
      // EXPORT_NAME cannot be answered with an error: the server MUST close.
      if (option == kOptExportName || !fixed_newstyle_) {
        return InvalidArgumentError("oversize export name");
      }
      RETURN_IF_ERROR(Discard(fd_, length));
      RETURN_IF_ERROR(SendOptionError(option, kRepErrTooBig, "option data too large"));
      continue;
    }
    data.resize(length);
    RETURN_IF_ERROR(ReadFull(fd_, data));
    // Non-fixed newstyle clients may only send EXPORT_NAME and cannot be
    // answered otherwise (proto.md "Newstyle negotiation").
    if (!fixed_newstyle_ && option != kOptExportName) {
      return InvalidArgumentError("option " + std::to_string(option) +
                                  " from a client without fixed newstyle");
    }
    bool go = false;
    RETURN_IF_ERROR(HandleOption(option, data, &go));
    if (go) {
      SetReceiveTimeout(fd_, std::chrono::seconds(0));
      return OkStatus();
    }
  }
  return InvalidArgumentError("too many options");
}

Status Connection::HandleOption(uint32_t option, std::span<const uint8_t> data, bool* go) {
  switch (option) {
    case kOptExportName: {
      const Export* e = FindExport(AsText(data));
      if (e == nullptr) {
        return NotFoundError("client asked for an unknown export \"" +
                             std::string(AsText(data).substr(0, 256)) + "\"");
      }
      export_ = e;
      // Reply: size, transmission flags, and 124 zeroes unless NO_ZEROES.
      std::vector<uint8_t> reply(10 + (no_zeroes_ ? 0 : 124), 0);
      PutU64(reply.data(), e->device->size());
      PutU16(reply.data() + 8, TransmissionFlags(*e));
      RETURN_IF_ERROR(WriteFull(fd_, reply));
      *go = true;
      return OkStatus();
    }
    case kOptAbort:
      // proto.md: the server MUST reply with NBD_REP_ACK (the client may
      // already be gone: ignore a failed send).
      SendOptionReply(option, kRepAck).IgnoreError();
      return Status(StatusCode::kCancelled, "client aborted the negotiation");
    case kOptList:
      return HandleList(option, data);
    case kOptInfo:
    case kOptGo:
      return HandleInfo(option, data, go);
    case kOptStructuredReply:
      if (!data.empty()) {
        return SendOptionError(option, kRepErrInvalid, "NBD_OPT_STRUCTURED_REPLY takes no data");
      }
      structured_ = true;
      return SendOptionReply(option, kRepAck);
    case kOptStartTls:
      return SendOptionError(option, kRepErrUnsup, "TLS is not supported by this server");
    default:
      return SendOptionError(option, kRepErrUnsup, "option not supported");
  }
}

Status Connection::HandleList(uint32_t option, std::span<const uint8_t> data) {
  if (!data.empty()) {
    return SendOptionError(option, kRepErrInvalid, "NBD_OPT_LIST takes no data");
  }
  for (const Export& e : *exports_) {
    std::vector<uint8_t> reply(4 + e.name.size());
    PutU32(reply.data(), static_cast<uint32_t>(e.name.size()));
    std::memcpy(reply.data() + 4, e.name.data(), e.name.size());
    RETURN_IF_ERROR(SendOptionReply(option, kRepServer, reply));
  }
  return SendOptionReply(option, kRepAck);
}

Status Connection::HandleInfo(uint32_t option, std::span<const uint8_t> data, bool* go) {
  // Data (proto.md NBD_OPT_INFO): u32 name length, name, u16 count, count
  // u16 information requests. Nothing may follow.
  ByteReader r(data);
  auto name_len = r.ReadU32Be("name length");
  if (!name_len.ok() || *name_len > r.remaining() || *name_len > kMaxStringLength) {
    return SendOptionError(option, kRepErrInvalid, "malformed export name");
  }
  auto name = r.ReadBytes(*name_len, "name");
  auto count = ReadU16(r, "information request count");
  if (!count.ok() || r.remaining() != size_t{*count} * 2) {
    return SendOptionError(option, kRepErrInvalid, "malformed information requests");
  }
  bool want_name = false, want_description = false, want_block_size = false;
  for (uint16_t i = 0; i < *count; ++i) {
    auto type = ReadU16(r, "information request");
    if (!type.ok()) return SendOptionError(option, kRepErrInvalid, "malformed request");
    want_name |= *type == kInfoName;
    want_description |= *type == kInfoDescription;
    want_block_size |= *type == kInfoBlockSize;  // unknown types are ignored
  }
  const Export* e = FindExport(AsText(*name));
  if (e == nullptr) {
    return SendOptionError(option, kRepErrUnknown,
                           "no export named \"" + std::string(AsText(*name)) + "\"");
  }
  const BlockDevice& dev = *e->device;
  // A client that did not ask for block sizes may send unaligned requests;
  // refuse GO rather than fail them later (proto.md "Block size
  // constraints", NBD_REP_ERR_BLOCK_SIZE_REQD).
  if (option == kOptGo && !want_block_size && dev.min_block_size() > 1) {
    return SendOptionError(option, kRepErrBlockSizeReqd,
                           "this export needs the client to honour its block sizes");
  }

  uint8_t info[12];
  PutU16(info, kInfoExport);
  PutU64(info + 2, dev.size());
  PutU16(info + 10, TransmissionFlags(*e));
  RETURN_IF_ERROR(SendOptionReply(option, kRepInfo, info));
  if (want_name) {
    std::vector<uint8_t> reply(2 + e->name.size());
    PutU16(reply.data(), kInfoName);
    std::memcpy(reply.data() + 2, e->name.data(), e->name.size());
    RETURN_IF_ERROR(SendOptionReply(option, kRepInfo, reply));
  }
  if (want_description && !e->description.empty()) {
    std::vector<uint8_t> reply(2 + e->description.size());
    PutU16(reply.data(), kInfoDescription);
    std::memcpy(reply.data() + 2, e->description.data(), e->description.size());
    RETURN_IF_ERROR(SendOptionReply(option, kRepInfo, reply));
  }
  // Sent even when not requested (allowed by proto.md), so a client can use
  // the preferred size.
  uint8_t sizes[14];
  PutU16(sizes, kInfoBlockSize);
  PutU32(sizes + 2, dev.min_block_size());
  PutU32(sizes + 6, dev.block_size());  // checked by Server::Start
  PutU32(sizes + 10, kMaxPayload);
  RETURN_IF_ERROR(SendOptionReply(option, kRepInfo, sizes));
  RETURN_IF_ERROR(SendOptionReply(option, kRepAck));
  if (option == kOptGo) {
    export_ = e;
    *go = true;
  }
  return OkStatus();
}

}  // namespace vmcrypt::nbd
