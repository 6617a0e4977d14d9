// null_lmtp — an LMTP server that answers and stores nothing: the protocol floor.
//
// Purpose: bench/run loads it with the same smtp-source workloads as the real servers to
// measure what the client and the loopback TCP conversation cost on this machine when the
// server does the least any LMTP server must do: read each command, answer it, find the end
// of DATA. No parsing beyond that, no user lookup, no file, no fsync. Its deliveries/s is an
// upper bound for every LMTP server on this box and this client; its CPU per delivery is a
// lower bound of the protocol's share. Never a mail server: it accepts everything and keeps
// nothing (every "250" it sends is a lie), so it listens on loopback only.
//
// One thread, level-triggered epoll, non-blocking sockets: the cheapest shape per message.
// Usage: null_lmtp PORT   (127.0.0.1; runs until SIGTERM/SIGINT)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

namespace {

volatile std::sig_atomic_t g_stop = 0;

struct Conn {
  int fd = -1;
  std::string in;   // unconsumed command bytes
  std::string out;  // replies not yet written
  bool in_data = false;
  int data_state = 1;  // 0 mid-line, 1 line start, 2 "." at line start, 3 ".\r"
  int rcpts = 0;
  bool quit = false;
  bool want_out = false;  // EPOLLOUT registered
};

bool starts_with_ci(std::string_view line, std::string_view word) {
  if (line.size() < word.size()) return false;
  for (size_t i = 0; i < word.size(); ++i) {
    char c = line[i];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
    if (c != word[i]) return false;
  }
  return true;
}

// Consumes DATA bytes from `p`; returns how many, and sets c.in_data false at the end marker.
size_t consume_data(Conn& c, const char* p, size_t n) {
  size_t i = 0;
  while (i < n) {
    if (c.data_state == 0) {
      const void* nl = std::memchr(p + i, '\n', n - i);
      if (nl == nullptr) return n;
      i = static_cast<size_t>(static_cast<const char*>(nl) - p) + 1;
      c.data_state = 1;
      continue;
    }
    char ch = p[i++];
    if (c.data_state == 1) {
      c.data_state = ch == '.' ? 2 : (ch == '\n' ? 1 : 0);
    } else if (c.data_state == 2) {
      c.data_state = ch == '\r' ? 3 : (ch == '\n' ? 1 : 0);
    } else {  // 3
      if (ch == '\n') {
        c.in_data = false;
        c.data_state = 1;
        for (int r = 0; r < c.rcpts; ++r) c.out += "250 2.0.0 <null> Saved nowhere\r\n";
        c.rcpts = 0;
        return i;
      }
      c.data_state = 0;
    }
  }
  return i;
}

void handle_line(Conn& c, std::string_view line) {
  if (starts_with_ci(line, "LHLO") || starts_with_ci(line, "EHLO")) {
    c.out += "250-null\r\n250-PIPELINING\r\n250 8BITMIME\r\n";
  } else if (starts_with_ci(line, "MAIL")) {
    c.rcpts = 0;
    c.out += "250 2.1.0 OK\r\n";
  } else if (starts_with_ci(line, "RCPT")) {
    ++c.rcpts;
    c.out += "250 2.1.5 OK\r\n";
  } else if (starts_with_ci(line, "DATA")) {
    c.in_data = true;
    c.data_state = 1;
    c.out += "354 OK\r\n";
  } else if (starts_with_ci(line, "QUIT")) {
    c.out += "221 2.0.0 Bye\r\n";
    c.quit = true;
  } else {
    c.out += "250 2.0.0 OK\r\n";
  }
}

void feed(Conn& c, const char* p, size_t n) {
  while (n > 0 && !c.quit) {
    if (c.in_data) {
      size_t used = consume_data(c, p, n);
      p += used;
      n -= used;
      continue;
    }
    c.in.append(p, n);
    n = 0;
    size_t start = 0;
    for (;;) {
      size_t nl = c.in.find('\n', start);
      if (nl == std::string::npos) break;
      handle_line(c, std::string_view(c.in).substr(start, nl - start));
      start = nl + 1;
      if (c.in_data) {
        // The rest of the buffer is message text: feed it back through the DATA scanner.
        std::string rest = c.in.substr(start);
        c.in.clear();
        feed(c, rest.data(), rest.size());
        return;
      }
    }
    c.in.erase(0, start);
  }
}

bool flush(Conn& c) {
  while (!c.out.empty()) {
    ssize_t w = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN) return true;
    if (w <= 0) return false;
    c.out.erase(0, static_cast<size_t>(w));
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: null_lmtp PORT\n");
    return 64;
  }
  std::signal(SIGTERM, [](int) { g_stop = 1; });
  std::signal(SIGINT, [](int) { g_stop = 1; });
  std::signal(SIGPIPE, SIG_IGN);
  int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(std::atoi(argv[1])));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(lfd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || ::listen(lfd, 4096) != 0) {
    std::perror("null_lmtp: bind/listen");
    return 1;
  }
  int ep = ::epoll_create1(EPOLL_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = lfd;
  ::epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
  std::unordered_map<int, std::unique_ptr<Conn>> conns;
  auto close_conn = [&](int fd) {
    ::epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
    ::close(fd);
    conns.erase(fd);
  };
  epoll_event events[256];
  char buf[65536];
  while (!g_stop) {
    int n = ::epoll_wait(ep, events, 256, 500);
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == lfd) {
        for (;;) {
          int cfd = ::accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (cfd < 0) break;
          ::setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          auto c = std::make_unique<Conn>();
          c->fd = cfd;
          c->out = "220 null LMTP (stores nothing)\r\n";
          epoll_event cev{};
          cev.events = EPOLLIN;
          cev.data.fd = cfd;
          ::epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &cev);
          if (!flush(*c)) {
            ::epoll_ctl(ep, EPOLL_CTL_DEL, cfd, nullptr);
            ::close(cfd);
            continue;
          }
          conns.emplace(cfd, std::move(c));
        }
        continue;
      }
      auto it = conns.find(fd);
      if (it == conns.end()) continue;
      Conn& c = *it->second;
      auto rearm = [&] {
        bool want = !c.out.empty();
        if (want == c.want_out) return;
        c.want_out = want;
        epoll_event cev{};
        cev.events = EPOLLIN | (want ? static_cast<uint32_t>(EPOLLOUT) : 0u);
        cev.data.fd = fd;
        ::epoll_ctl(ep, EPOLL_CTL_MOD, fd, &cev);
      };
      if (events[i].events & EPOLLOUT) {
        if (!flush(c) || (c.quit && c.out.empty())) {
          close_conn(fd);
          continue;
        }
        rearm();
      }
      if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        ssize_t r = ::recv(fd, buf, sizeof buf, 0);
        if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        if (r <= 0) {
          close_conn(fd);
          continue;
        }
        feed(c, buf, static_cast<size_t>(r));
        if (!flush(c) || (c.quit && c.out.empty())) {
          close_conn(fd);
          continue;
        }
        rearm();
      }
    }
  }
  return 0;
}
