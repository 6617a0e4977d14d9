#include "lmtpd/rawlog.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "base/log.hpp"

namespace dovetail::lmtpd {
namespace {
void write_all(int fd, std::string_view b) {
  while (!b.empty()) {
    ssize_t n = ::write(fd, b.data(), b.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    b.remove_prefix(static_cast<size_t>(n));
  }
}
}  // namespace

std::unique_ptr<Rawlog> Rawlog::open(const std::string& dir, const std::string& session_id) {
  struct stat st {};
  if (dir.empty() || ::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return nullptr;
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::localtime_r(&now, &tm);
  char ts[32];
  std::strftime(ts, sizeof ts, "%Y%m%d-%H%M%S", &tm);
  std::string id = session_id;
  for (char& c : id)
    if (c == '/') c = '_';  // base64 ids may hold '/'
  std::string base = dir + "/" + ts + "-" + id;
  auto r = std::make_unique<Rawlog>();
  r->in_.reset(::open((base + ".in").c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  r->out_.reset(::open((base + ".out").c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!r->in_ || !r->out_) {
    base::log::error("lmtp: ", "rawlog: cannot create " + base + ".in/.out: " + std::strerror(errno));
    return nullptr;
  }
  return r;
}

void Rawlog::in(std::string_view bytes) {
  if (in_) write_all(in_.get(), bytes);
}

void Rawlog::out(std::string_view bytes) {
  if (out_) write_all(out_.get(), bytes);
}

}  // namespace dovetail::lmtpd
