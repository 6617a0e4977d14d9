// make_session_id: 16 random octets in base64 without padding = 22 characters, the shape of
// Dovecot's session ids (so log parsers written for Dovecot keep working).
#include <sys/random.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <random>

#include "smtp/server_session.hpp"

namespace dovetail::smtp {

std::string make_session_id() {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  // Random octets are fetched in blocks: one getrandom(2) per 32 sessions, not one per
  // connection. Each thread has its own block; the only programs the daemon starts are
  // exec'd at once, so no forked copy of a block ever makes ids.
  thread_local uint8_t block[512];
  thread_local size_t used = sizeof block;
  uint8_t raw[16];
  if (used + sizeof raw > sizeof block) {
    size_t got = 0;
    while (got < sizeof block) {
      ssize_t n = ::getrandom(block + got, sizeof block - got, 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        break;
      }
      got += static_cast<size_t>(n);
    }
    if (got < sizeof block) {  // no getrandom: ids need uniqueness, not secrecy
      std::random_device rd;
      for (size_t i = got; i < sizeof block; ++i) block[i] = static_cast<uint8_t>(rd());
    }
    used = 0;
  }
  std::memcpy(raw, block + used, sizeof raw);
  used += sizeof raw;
  std::string id;
  id.reserve(22);
  uint32_t acc = 0;
  int bits = 0;
  for (uint8_t b : raw) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      id.push_back(kAlphabet[(acc >> bits) & 0x3F]);
    }
  }
  if (bits > 0) id.push_back(kAlphabet[(acc << (6 - bits)) & 0x3F]);
  return id;
}

}  // namespace dovetail::smtp
