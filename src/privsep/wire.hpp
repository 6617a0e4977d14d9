// wire.hpp — the message format between the network process and the privileged writer.
//
// Purpose: a versioned, length-prefixed, fixed-layout encoding of the only two messages
// that cross the privilege boundary: DeliverRequest (network -> writer) and DeliverReply
// (writer -> network). Sans-I/O: bytes in, structs out. The spooled body travels as a file
// descriptor beside the frame (SCM_RIGHTS, see channel.hpp), or inline when small.
// Frame: magic "DVTW" | u16 version | u16 type | u32 payload length | payload. Integers are
// little-endian; a string is u32 length + bytes. Every field is bounds-checked; unknown
// versions, types, trailing bytes, oversized counts or strings are errors — never a
// negotiation (the caller treats any error as fatal for the channel).
// Security: this is the attack surface of the privileged writer. decode_request() must hold
// against arbitrary bytes (fuzzed: tests/fuzz/privsep_wire_fuzz.cpp). Nothing here decides
// uids or paths: the writer derives them itself from the user name (docs/decisions/0003).
// Depends on: base. Threading: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace dovetail::privsep {

inline constexpr uint32_t kMagic = 0x57545644;  // "DVTW" little-endian
inline constexpr uint16_t kVersion = 2;
inline constexpr size_t kHeaderSize = 12;
inline constexpr uint32_t kMaxPayload = 192 * 1024;  // fits one SOCK_SEQPACKET record
inline constexpr uint32_t kMaxInlineBody = 64 * 1024; // larger bodies travel as an fd
inline constexpr uint32_t kMaxTargets = 1024;
inline constexpr uint32_t kMaxString = 16 * 1024;     // user names, folder names, texts

// kReady (writer -> network, empty payload) is sent once, after the writer loaded its config
// and built its userdb; the daemon serves only after it arrived.
// kReload (network -> writer, no descriptor) follows a successful SIGHUP reload of the
// daemon: the writer re-reads ITS OWN config file (the path it was started with; the frame
// carries no settings, only the digest of the bytes the daemon read, config.hpp digest())
// and keeps the old config when the new one fails or when it keeps reading other bytes than
// the daemon did (the file was edited again meanwhile). Requests sent after it are served
// with the new config. The worst a compromised network process can do with it is make the
// writer re-read a file root controls, or refuse to take it (a wrong digest).
enum class MessageType : uint16_t { kDeliverRequest = 1, kDeliverReply = 2, kReady = 3, kReload = 4 };

enum class FsyncMode : uint8_t { kOptimized = 0, kAlways = 1, kNever = 2 };

struct DeliverTarget {
  std::string user;     // userdb lookup key (already auth_username_format'ed, no detail)
  std::string mailbox;  // "INBOX" or a folder name as the recipient asked (validated by the writer)
  bool autocreate = false;
  bool autosubscribe = false;
};

struct DeliverRequest {
  uint64_t id = 0;
  std::vector<DeliverTarget> targets;
  std::string headers;    // bytes prepended to the body (trace headers)
  bool body_in_fd = true; // body is the fd passed with this frame; else `body` below
  std::string body;       // inline body when !body_in_fd (<= kMaxInlineBody)
  uint64_t body_size = 0; // octets of the body (fd or inline)
  uint64_t body_lfs = 0;  // '\n' count of the body, for W=
  FsyncMode fsync = FsyncMode::kOptimized;
};

enum class TargetStatus : uint8_t { kSaved = 0, kTempFail = 1, kPermFail = 2, kQuota = 3 };

struct TargetResult {
  TargetStatus status = TargetStatus::kTempFail;
  std::string mailbox;   // where it went (INBOX when a folder was refused)
  std::string filename;  // maildir file name, for logs
  std::string reason;    // log text when not saved
};

struct DeliverReply {
  uint64_t id = 0;
  std::vector<TargetResult> results;  // one per request target, same order
};

std::string encode(const DeliverRequest& request);
std::string encode(const DeliverReply& reply);
std::string encode_ready();
[[nodiscard]] base::Status decode_ready(std::string_view frame);
inline constexpr uint32_t kMaxDigest = 128;  // hex characters; "" = no expectation
std::string encode_reload(std::string_view config_digest);
// The digest, checked to be at most kMaxDigest lower-case hex characters.
[[nodiscard]] base::Result<std::string> decode_reload(std::string_view frame);

struct FrameHeader {
  MessageType type;
  uint32_t payload_size;
};

// Validates a 12-byte header (magic, version, type, size bound).
[[nodiscard]] base::Result<FrameHeader> decode_header(std::string_view bytes);
// Decodes a whole frame (header + payload) of the expected type.
[[nodiscard]] base::Result<DeliverRequest> decode_request(std::string_view frame);
[[nodiscard]] base::Result<DeliverReply> decode_reply(std::string_view frame);

}  // namespace dovetail::privsep
