// The transmission phase (proto.md "Transmission", "Request types", "Error
// values"): the reader loop, the per-connection workers, request checks and
// replies.
#include <sys/socket.h>

#include <algorithm>
#include <thread>

#include "connection.h"
#include "protocol.h"
#include "socket_io.h"
#include "vmcrypt/base/byte_reader.h"

namespace vmcrypt::nbd {

using namespace proto;  // NOLINT: wire constants

namespace {

// The NBD error value for a failed device call (proto.md "Error values":
// ENOSPC for out-of-space, EPERM for read-only, otherwise EIO).
uint32_t ErrorFor(const Status& s) {
  switch (s.code()) {
    case StatusCode::kOutOfRange:
      return kEnospc;
    case StatusCode::kPermissionDenied:
      return kEperm;
    case StatusCode::kInvalidArgument:
      return kEinval;
    case StatusCode::kCancelled:
      return kEshutdown;
    default:
      return kEio;
  }
}

bool IsWrite(uint16_t type) {
  return type == kCmdWrite || type == kCmdTrim || type == kCmdWriteZeroes;
}

// Per connection, requests wait for a worker while at most this much READ
// and WRITE data is held (a single larger request still passes alone).
constexpr uint64_t kMaxBytesInFlight = 64 << 20;
// Buffers larger than this are freed after use rather than kept for reuse.
constexpr size_t kMaxSpareCapacity = 4 << 20;

// The buffer a request needs (none for one over the limit: it is refused).
uint64_t DataBytes(uint16_t type, uint32_t length) {
  return (type == kCmdRead || type == kCmdWrite) && length <= kMaxPayload ? length : 0;
}

}  // namespace

void Connection::Run() {
  Status s = Handshake();
  if (!s.ok()) {
    if (s.code() != StatusCode::kCancelled) Log("handshake ended: " + s.ToString());
    return;
  }
  Log("serving export \"" + export_->name + "\"" + (structured_ ? " (structured replies)" : ""));
  s = Transmission();
  Log(s.ok() ? "client disconnected" : "connection ended: " + s.message());
}

Status Connection::Transmission() {
  const int workers = std::max(1, options_->threads_per_connection);
  if (workers == 1) return ReadRequests(false);
  std::vector<std::thread> pool;
  for (int i = 0; i < workers; ++i) pool.emplace_back([this] { WorkerLoop(); });
  Status s = ReadRequests(true);
  // NBD_CMD_DISC or EOF: the queued requests are still served and answered
  // (proto.md "NBD_CMD_DISC": handle all outstanding requests).
  {
    std::lock_guard<std::mutex> lock(q_mu_);
    closing_ = true;
  }
  work_cv_.notify_all();
  for (std::thread& t : pool) t.join();
  return s;
}

Status Connection::ReadRequests(bool parallel) {
  for (;;) {
    uint8_t header[kRequestHeaderSize];
    RETURN_IF_ERROR(ReadFull(fd_, header));
    ByteReader r(header);
    ASSIGN_OR_RETURN(const uint32_t magic, r.ReadU32Be("request magic"));
    ASSIGN_OR_RETURN(auto flag_bytes, r.ReadBytes(2, "command flags"));
    ASSIGN_OR_RETURN(auto type_bytes, r.ReadBytes(2, "command type"));
    Job job;
    Request& req = job.req;
    req.flags = static_cast<uint16_t>((flag_bytes[0] << 8) | flag_bytes[1]);
    req.type = static_cast<uint16_t>((type_bytes[0] << 8) | type_bytes[1]);
    ASSIGN_OR_RETURN(req.handle, r.ReadU64Be("handle"));
    ASSIGN_OR_RETURN(req.offset, r.ReadU64Be("offset"));
    ASSIGN_OR_RETURN(req.length, r.ReadU32Be("length"));
    // A wrong magic means we lost the framing: nothing after it can be
    // trusted, so the only safe answer is a hard disconnect.
    if (magic != kRequestMagic) return InvalidArgumentError("bad request magic");
    if (req.type == kCmdDisc) return OkStatus();

    const uint64_t bytes = DataBytes(req.type, req.length);
    if (parallel) {
      // Wait for room before taking the payload off the socket.
      std::unique_lock<std::mutex> lock(q_mu_);
      space_cv_.wait(lock, [&] {
        return broken_ || jobs_in_flight_ == 0 ||
               (jobs_in_flight_ < 2 * options_->threads_per_connection &&
                bytes_in_flight_ + bytes <= kMaxBytesInFlight);
      });
      if (broken_) return UnavailableError("a reply could not be sent");
      if (!spare_.empty()) {
        job.buf = std::move(spare_.back());
        spare_.pop_back();
      }
    } else if (!spare_.empty()) {
      job.buf = std::move(spare_.back());
      spare_.pop_back();
    }
    if (req.type == kCmdWrite) {
      // The payload follows the header whatever we think of the request;
      // read (or skip) it so the next header is where the client put it.
      if (req.length > kMaxPayload) {
        RETURN_IF_ERROR(Discard(fd_, req.length));
      } else {
        if (job.buf.size() < req.length) job.buf.resize(req.length);
        RETURN_IF_ERROR(ReadFull(fd_, std::span(job.buf.data(), req.length)));
      }
    }
    if (!parallel) {
      RETURN_IF_ERROR(Serve(job.req, job.buf));
      if (job.buf.capacity() <= kMaxSpareCapacity) spare_.push_back(std::move(job.buf));
      continue;
    }
    Enqueue(std::move(job));
  }
}

void Connection::Enqueue(Job job) {
  {
    std::lock_guard<std::mutex> lock(q_mu_);
    ++jobs_in_flight_;
    bytes_in_flight_ += DataBytes(job.req.type, job.req.length);
    queue_.push_back(std::move(job));
  }
  work_cv_.notify_one();
}

void Connection::WorkerLoop() {
  for (;;) {
    Job job;
    bool skip = false;  // the connection is dead: just account for the job
    {
      std::unique_lock<std::mutex> lock(q_mu_);
      work_cv_.wait(lock, [&] { return !queue_.empty() || closing_; });
      if (queue_.empty()) return;
      job = std::move(queue_.front());
      queue_.pop_front();
      skip = broken_;
    }
    const Status s = skip ? OkStatus() : Serve(job.req, job.buf);
    std::lock_guard<std::mutex> lock(q_mu_);
    if (!s.ok() && !broken_) {
      // The client is gone: wake the reader (blocked in recv) so the
      // connection ends instead of waiting for more requests.
      broken_ = true;
      ::shutdown(fd_, SHUT_RDWR);
    }
    --jobs_in_flight_;
    bytes_in_flight_ -= DataBytes(job.req.type, job.req.length);
    if (job.buf.capacity() <= kMaxSpareCapacity) spare_.push_back(std::move(job.buf));
    space_cv_.notify_all();
  }
}

uint32_t Connection::Check(const Request& req, std::string* why) const {
  const BlockDevice& dev = *export_->device;
  uint16_t allowed = kCmdFlagFua;  // valid on every command once SEND_FUA is set
  switch (req.type) {
    case kCmdRead:
      if (structured_) allowed |= kCmdFlagDf;
      break;
    case kCmdWriteZeroes:
      allowed |= kCmdFlagNoHole;
      break;
    case kCmdWrite:
    case kCmdFlush:
    case kCmdTrim:
      break;
    default:
      *why = "unsupported command " + std::to_string(req.type);
      return kEinval;
  }
  if ((req.flags & ~allowed) != 0) {
    *why = "unsupported command flags";
    return kEinval;
  }
  if (req.type == kCmdFlush) return 0;  // offset and length are reserved
  if ((req.type == kCmdRead || req.type == kCmdWrite) && req.length > kMaxPayload) {
    *why = "request larger than the 32 MiB maximum";
    return kEinval;
  }
  if (IsWrite(req.type) && dev.read_only()) {
    *why = "export is read-only";
    return kEperm;
  }
  const uint64_t size = dev.size();
  if (req.offset > size || req.length > size - req.offset) {
    *why = "request beyond the end of the export";
    return IsWrite(req.type) ? kEnospc : kEinval;
  }
  const uint32_t align = dev.min_block_size();
  if (align > 1 && (req.offset % align != 0 || req.length % align != 0)) {
    *why = "request not aligned to the minimum block size " + std::to_string(align);
    return kEinval;
  }
  return 0;
}

Status Connection::Serve(const Request& req, std::vector<uint8_t>& buf) {
  std::string why;
  if (const uint32_t error = Check(req, &why); error != 0) {
    return SendError(req, error, why);
  }
  BlockDevice& dev = *export_->device;
  const bool fua = (req.flags & kCmdFlagFua) != 0;
  Status s;
  switch (req.type) {
    case kCmdRead: {
      if (buf.size() < req.length) buf.resize(req.length);
      const std::span<uint8_t> out(buf.data(), req.length);
      if (req.length > 0) s = dev.Read(req.offset, out);
      if (s.ok()) return SendReadData(req, out);
      break;
    }
    case kCmdWrite:
      if (req.length > 0) s = dev.Write(req.offset, std::span(buf.data(), req.length), fua);
      break;
    case kCmdFlush:
      s = dev.Flush();
      break;
    case kCmdTrim:
      if (req.length > 0) s = dev.Trim(req.offset, req.length);
      if (s.ok() && fua) s = dev.Flush();
      break;
    case kCmdWriteZeroes:
      // NO_HOLE: the range must stay allocated, so write real zeros instead
      // of letting the device punch a hole.
      if (req.length == 0) break;
      s = (req.flags & kCmdFlagNoHole) != 0 ? ZeroFill(req.offset, req.length, fua)
                                            : dev.WriteZeroes(req.offset, req.length, fua);
      break;
    default:
      return SendError(req, kEinval, "unsupported command");
  }
  if (!s.ok()) {
    Log("command " + std::to_string(req.type) + " failed: " + s.ToString());
    // The client gets the error value only; the cause (paths etc.) is logged.
    return SendError(req, ErrorFor(s), "the export failed the request");
  }
  return SendOk(req);
}

Status Connection::ZeroFill(uint64_t offset, uint64_t length, bool fua) {
  static constexpr size_t kChunk = 1 << 20;  // a multiple of every min_block_size
  const std::vector<uint8_t> zeros(std::min<uint64_t>(length, kChunk), 0);
  while (length > 0) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(length, zeros.size()));
    RETURN_IF_ERROR(export_->device->Write(offset, std::span(zeros.data(), n), false));
    offset += n;
    length -= n;
  }
  return fua ? export_->device->Flush() : OkStatus();
}

Status Connection::SendOk(const Request& req) {
  std::lock_guard<std::mutex> lock(send_mu_);
  uint8_t reply[kSimpleReplySize];
  PutU32(reply, kSimpleReplyMagic);
  PutU32(reply + 4, 0);
  PutU64(reply + 8, req.handle);
  return WriteFull(fd_, reply);
}

Status Connection::SendReadData(const Request& req, std::span<const uint8_t> data) {
  std::lock_guard<std::mutex> lock(send_mu_);
  if (!structured_) {
    uint8_t reply[kSimpleReplySize];
    PutU32(reply, kSimpleReplyMagic);
    PutU32(reply + 4, 0);
    PutU64(reply + 8, req.handle);
    const iovec iov[2] = {{reply, sizeof(reply)}, {const_cast<uint8_t*>(data.data()), data.size()}};
    return WriteFull(fd_, iov);
  }
  // Structured: one NBD_REPLY_TYPE_OFFSET_DATA chunk marked DONE (the data
  // is complete before we send it), or NBD_REPLY_TYPE_NONE for a zero-length
  // read, which has no content to describe.
  uint8_t chunk[kChunkHeaderSize + 8];
  PutU32(chunk, kStructuredReplyMagic);
  PutU16(chunk + 4, kReplyFlagDone);
  PutU64(chunk + 8, req.handle);
  if (data.empty()) {
    PutU16(chunk + 6, kReplyTypeNone);
    PutU32(chunk + 16, 0);
    return WriteFull(fd_, std::span(chunk, kChunkHeaderSize));
  }
  PutU16(chunk + 6, kReplyTypeOffsetData);
  PutU32(chunk + 16, static_cast<uint32_t>(8 + data.size()));
  PutU64(chunk + 20, req.offset);
  const iovec iov[2] = {{chunk, sizeof(chunk)}, {const_cast<uint8_t*>(data.data()), data.size()}};
  return WriteFull(fd_, iov);
}

Status Connection::SendError(const Request& req, uint32_t error, std::string_view message) {
  std::lock_guard<std::mutex> lock(send_mu_);
  if (!structured_) {
    uint8_t reply[kSimpleReplySize];
    PutU32(reply, kSimpleReplyMagic);
    PutU32(reply + 4, error);
    PutU64(reply + 8, req.handle);
    return WriteFull(fd_, reply);
  }
  // NBD_REPLY_TYPE_ERROR: u32 error, u16 message length, message.
  message = message.substr(0, 1024);
  std::vector<uint8_t> chunk(kChunkHeaderSize + 6 + message.size());
  PutU32(chunk.data(), kStructuredReplyMagic);
  PutU16(chunk.data() + 4, kReplyFlagDone);
  PutU16(chunk.data() + 6, kReplyTypeError);
  PutU64(chunk.data() + 8, req.handle);
  PutU32(chunk.data() + 16, static_cast<uint32_t>(6 + message.size()));
  PutU32(chunk.data() + 20, error);
  PutU16(chunk.data() + 24, static_cast<uint16_t>(message.size()));
  std::copy(message.begin(), message.end(), chunk.begin() + kChunkHeaderSize + 6);
  return WriteFull(fd_, chunk);
}

}  // namespace vmcrypt::nbd
