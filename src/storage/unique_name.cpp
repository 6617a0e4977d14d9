#include "storage/unique_name.hpp"

#include <unistd.h>

#include <atomic>
#include <charconv>
#include <climits>
#include <ctime>

namespace dovetail::storage {
namespace {

constexpr size_t kMaxDigits = 20;  // of a uint64_t

void append_number(std::string& out, uint64_t n) {
  char digits[kMaxDigits];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, n);
  out.append(digits, end);
}

}  // namespace

const std::string& maildir_hostname() {
  static const std::string host = [] {
    char buf[HOST_NAME_MAX + 1] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return std::string("localhost");
    std::string out;
    for (const char* p = buf; *p != '\0'; ++p) {
      if (*p == '/') {
        out += "\\057";
      } else if (*p == ':') {
        out += "\\072";
      } else {
        out += *p;
      }
    }
    return out;
  }();
  return host;
}

// "P<pid>.<host>": every process that saves mail was exec'd (the privileged writer, the LDA)
// or is the daemon itself, never a fork that goes on delivering, so the pid is read once.
const std::string& pid_and_host() {
  static const std::string suffix = "P" + std::to_string(::getpid()) + "." + maildir_hostname();
  return suffix;
}

std::string next_unique_base() {
  static std::atomic<uint64_t> last_us{0};
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  uint64_t now = static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
  uint64_t prev = last_us.load(std::memory_order_relaxed);
  uint64_t mine;
  do {
    mine = now > prev ? now : prev + 1;
  } while (!last_us.compare_exchange_weak(prev, mine, std::memory_order_relaxed));
  const std::string& suffix = pid_and_host();
  std::string out;
  out.reserve(2 * kMaxDigits + 2 + suffix.size());
  append_number(out, mine / 1000000u);
  out += ".M";
  append_number(out, mine % 1000000u);
  out += suffix;
  return out;
}

std::string with_sizes(std::string_view base, uint64_t size, uint64_t vsize) {
  std::string out;
  out.reserve(base.size() + 6 + 2 * kMaxDigits);
  out += base;
  out += ",S=";
  append_number(out, size);
  out += ",W=";
  append_number(out, vsize);
  return out;
}

uint64_t crlf_size(std::string_view bytes) {
  uint64_t n = bytes.size();
  for (size_t i = bytes.find('\n'); i != std::string_view::npos; i = bytes.find('\n', i + 1))
    if (i == 0 || bytes[i - 1] != '\r') ++n;
  return n;
}

}  // namespace dovetail::storage
