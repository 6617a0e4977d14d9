#include "privsep/channel.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "privsep/wire.hpp"

namespace dovetail::privsep {
namespace {

// The network process's channel ends become non-blocking once an event loop has waited on
// them (ConnectionContext::when_readable): the blocking calls here then wait in poll().
bool wait_for(int sock, short events) {
  pollfd p{sock, events, 0};
  int n;
  do {
    n = ::poll(&p, 1, -1);
  } while (n < 0 && errno == EINTR);
  return n > 0;
}

}  // namespace

base::Result<std::pair<base::UniqueFd, base::UniqueFd>> make_channel_pair() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0)
    return base::fail(base::Error::from_errno(errno, "socketpair"));
  return std::pair{base::UniqueFd(fds[0]), base::UniqueFd(fds[1])};
}

base::Status send_frame(int sock, std::string_view frame, int fd) {
  iovec iov{const_cast<char*>(frame.data()), frame.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  if (fd >= 0) {
    std::memset(control, 0, sizeof(control));
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
  }
  for (;;) {
    ssize_t n = ::sendmsg(sock, &msg, MSG_NOSIGNAL);
    if (n == static_cast<ssize_t>(frame.size())) return {};
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && wait_for(sock, POLLOUT)) continue;
    if (n < 0) return base::fail(base::Error::from_errno(errno, "privsep sendmsg"));
    return base::fail(base::Error::internal("privsep sendmsg: short write on SEQPACKET"));
  }
}

namespace {

enum class Waiting { kWait, kNoWait };

// nullopt only with kNoWait, when nothing has arrived.
base::Result<std::optional<Received>> receive(int sock, Waiting waiting) {
  Received out;
  // One receive buffer per thread, never zero-filled: a fresh 192 KiB std::string per frame
  // cost a memset of the whole buffer for every delivery on both sides of the channel.
  constexpr size_t kBufferSize = kHeaderSize + kMaxPayload + 1;  // +1 detects oversize without MSG_TRUNC games
  thread_local std::unique_ptr<char[]> buffer(new char[kBufferSize]);
  iovec iov{buffer.get(), kBufferSize};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  // Room for several descriptors so that extra ones are received (and closed), not silently
  // dropped by the kernel with MSG_CTRUNC.
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 8)];
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  const int flags = MSG_CMSG_CLOEXEC | (waiting == Waiting::kNoWait ? MSG_DONTWAIT : 0);
  ssize_t n;
  for (;;) {
    n = ::recvmsg(sock, &msg, flags);
    if (n >= 0) break;
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) break;
    if (waiting == Waiting::kNoWait) return std::optional<Received>();
    if (!wait_for(sock, POLLIN)) break;
  }
  if (n < 0) return base::fail(base::Error::from_errno(errno, "privsep recvmsg"));
  if (n == 0) return base::fail(base::Error::not_found("privsep: peer closed the channel"));

  int fd_count = 0;
  bool bad_control = (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
      bad_control = true;
      continue;
    }
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      base::UniqueFd owned(fd);
      if (++fd_count == 1) out.fd = std::move(owned);  // further ones close at scope end
    }
  }
  if (bad_control || fd_count > 1) return base::fail(base::Error::invalid("privsep: malformed control data"));
  if (static_cast<size_t>(n) > kHeaderSize + kMaxPayload)
    return base::fail(base::Error::invalid("privsep: record too large"));
  if (out.fd.valid()) {
    struct stat st;
    if (::fstat(out.fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
      return base::fail(base::Error::invalid("privsep: attached descriptor is not a regular file"));
  }
  out.frame.assign(buffer.get(), static_cast<size_t>(n));
  return std::optional<Received>(std::move(out));
}

}  // namespace

base::Result<Received> recv_frame(int sock) {
  auto got = receive(sock, Waiting::kWait);
  if (!got) return base::fail(got.error());
  return std::move(**got);
}

base::Result<std::optional<Received>> try_recv_frame(int sock) { return receive(sock, Waiting::kNoWait); }

}  // namespace dovetail::privsep
