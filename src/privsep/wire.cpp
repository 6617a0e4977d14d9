#include "privsep/wire.hpp"

#include <cstring>

namespace dovetail::privsep {
namespace {

class Writer {
 public:
  void u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u16(uint16_t v) { le(v, 2); }
  void u32(uint32_t v) { le(v, 4); }
  void u64(uint64_t v) { le(v, 8); }
  void str(std::string_view s) {
    u32(static_cast<uint32_t>(s.size()));
    out_.append(s);
  }
  std::string frame(MessageType type) {
    Writer h;
    h.u32(kMagic);
    h.u16(kVersion);
    h.u16(static_cast<uint16_t>(type));
    h.u32(static_cast<uint32_t>(out_.size()));
    return h.out_ + out_;
  }

 private:
  void le(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool u8(uint8_t& v) { return le(v, 1); }
  bool u16(uint16_t& v) { return le(v, 2); }
  bool u32(uint32_t& v) { return le(v, 4); }
  bool u64(uint64_t& v) { return le(v, 8); }
  bool str(std::string& s, uint32_t max) {
    uint32_t n = 0;
    if (!u32(n) || n > max || n > in_.size() - pos_) return false;
    s.assign(in_.substr(pos_, n));
    pos_ += n;
    return true;
  }
  bool done() const { return pos_ == in_.size(); }

 private:
  template <class T>
  bool le(T& v, size_t n) {
    if (in_.size() - pos_ < n) return false;
    uint64_t acc = 0;
    for (size_t i = 0; i < n; ++i) acc |= uint64_t(static_cast<unsigned char>(in_[pos_ + i])) << (8 * i);
    pos_ += n;
    v = static_cast<T>(acc);
    return true;
  }
  std::string_view in_;
  size_t pos_ = 0;
};

base::Error bad(const char* what) { return base::Error::invalid(std::string("privsep: malformed ") + what); }

base::Result<std::string_view> payload_of(std::string_view frame, MessageType want) {
  auto header = decode_header(frame);
  if (!header) return base::fail(header.error());
  if (header->type != want) return base::fail(bad("frame: unexpected type"));
  if (frame.size() != kHeaderSize + header->payload_size) return base::fail(bad("frame: length mismatch"));
  return frame.substr(kHeaderSize);
}

}  // namespace

std::string encode(const DeliverRequest& r) {
  Writer w;
  w.u64(r.id);
  w.u32(static_cast<uint32_t>(r.targets.size()));
  for (const auto& t : r.targets) {
    w.str(t.user);
    w.str(t.mailbox);
    w.u8(static_cast<uint8_t>((t.autocreate ? 1 : 0) | (t.autosubscribe ? 2 : 0)));
  }
  w.str(r.headers);
  w.u8(r.body_in_fd ? 1 : 0);
  w.str(r.body_in_fd ? std::string_view{} : std::string_view(r.body));
  w.u64(r.body_size);
  w.u64(r.body_lfs);
  w.u8(static_cast<uint8_t>(r.fsync));
  return w.frame(MessageType::kDeliverRequest);
}

std::string encode(const DeliverReply& r) {
  Writer w;
  w.u64(r.id);
  w.u32(static_cast<uint32_t>(r.results.size()));
  for (const auto& t : r.results) {
    w.u8(static_cast<uint8_t>(t.status));
    w.str(t.mailbox);
    w.str(t.filename);
    w.str(t.reason);
  }
  return w.frame(MessageType::kDeliverReply);
}

std::string encode_ready() { return Writer().frame(MessageType::kReady); }

base::Status decode_ready(std::string_view frame) {
  auto payload = payload_of(frame, MessageType::kReady);
  if (!payload) return base::fail(payload.error());
  if (!payload->empty()) return base::fail(bad("ready: payload"));
  return {};
}

std::string encode_reload(std::string_view config_digest) {
  Writer w;
  w.str(config_digest);
  return w.frame(MessageType::kReload);
}

base::Result<std::string> decode_reload(std::string_view frame) {
  auto payload = payload_of(frame, MessageType::kReload);
  if (!payload) return base::fail(payload.error());
  Reader r(*payload);
  std::string digest;
  if (!r.str(digest, kMaxDigest) || !r.done()) return base::fail(bad("reload: payload"));
  for (char c : digest)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return base::fail(bad("reload: digest not hex"));
  return digest;
}

base::Result<FrameHeader> decode_header(std::string_view bytes) {
  if (bytes.size() < kHeaderSize) return base::fail(bad("frame: short header"));
  Reader r(bytes.substr(0, kHeaderSize));
  uint32_t magic = 0, size = 0;
  uint16_t version = 0, type = 0;
  r.u32(magic);
  r.u16(version);
  r.u16(type);
  r.u32(size);
  if (magic != kMagic) return base::fail(bad("frame: bad magic"));
  if (version != kVersion) return base::fail(bad("frame: unsupported version"));
  if (type != static_cast<uint16_t>(MessageType::kDeliverRequest) &&
      type != static_cast<uint16_t>(MessageType::kDeliverReply) &&
      type != static_cast<uint16_t>(MessageType::kReady) && type != static_cast<uint16_t>(MessageType::kReload))
    return base::fail(bad("frame: unknown type"));
  if (size > kMaxPayload) return base::fail(bad("frame: payload too large"));
  return FrameHeader{static_cast<MessageType>(type), size};
}

base::Result<DeliverRequest> decode_request(std::string_view frame) {
  auto payload = payload_of(frame, MessageType::kDeliverRequest);
  if (!payload) return base::fail(payload.error());
  Reader r(*payload);
  DeliverRequest req;
  uint32_t count = 0;
  if (!r.u64(req.id) || !r.u32(count) || count == 0 || count > kMaxTargets) return base::fail(bad("request: targets"));
  req.targets.resize(count);
  for (auto& t : req.targets) {
    uint8_t flags = 0;
    if (!r.str(t.user, kMaxString) || !r.str(t.mailbox, kMaxString) || !r.u8(flags) || flags > 3)
      return base::fail(bad("request: target"));
    if (t.user.empty()) return base::fail(bad("request: empty user"));
    t.autocreate = flags & 1;
    t.autosubscribe = flags & 2;
  }
  uint8_t in_fd = 0, fsync = 0;
  if (!r.str(req.headers, kMaxPayload) || !r.u8(in_fd) || in_fd > 1 ||
      !r.str(req.body, kMaxInlineBody) || !r.u64(req.body_size) || !r.u64(req.body_lfs) ||
      !r.u8(fsync) || fsync > 2 || !r.done())
    return base::fail(bad("request: body"));
  req.body_in_fd = in_fd == 1;
  if (req.body_in_fd ? !req.body.empty() : req.body.size() != req.body_size)
    return base::fail(bad("request: body size"));
  if (req.body_lfs > req.body_size) return base::fail(bad("request: line count"));
  req.fsync = static_cast<FsyncMode>(fsync);
  return req;
}

base::Result<DeliverReply> decode_reply(std::string_view frame) {
  auto payload = payload_of(frame, MessageType::kDeliverReply);
  if (!payload) return base::fail(payload.error());
  Reader r(*payload);
  DeliverReply rep;
  uint32_t count = 0;
  if (!r.u64(rep.id) || !r.u32(count) || count > kMaxTargets) return base::fail(bad("reply: results"));
  rep.results.resize(count);
  for (auto& t : rep.results) {
    uint8_t status = 0;
    if (!r.u8(status) || status > 3 || !r.str(t.mailbox, kMaxString) || !r.str(t.filename, kMaxString) ||
        !r.str(t.reason, kMaxString))
      return base::fail(bad("reply: result"));
    t.status = static_cast<TargetStatus>(status);
  }
  if (!r.done()) return base::fail(bad("reply: trailing bytes"));
  return rep;
}

}  // namespace dovetail::privsep
