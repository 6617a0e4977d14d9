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
//
// With --store DIR it becomes the barest *durable* LMTP server: the end of DATA runs the same
// chain as bench/fsync_limit --tmpfile (an O_TMPFILE file in DIR/<domain>/<local>/Maildir/new/, the raw
// DATA bytes written, from 16 KiB on with O_DIRECT like Dovetail, fsync, linked into every
// recipient's new/, each new/ fsynced) before the 250s go out. No user lookup, no headers,
// no dot-unstuffing, no log, no privilege separation, new/ kept open: what the client, the
// conversation and the durable chain cost together on this machine, measured rather than
// added up. Two shapes: the chain on a pool of --workers threads woken by the event thread
// (which learns of each finished chain through an eventfd), or --blocking: one thread per
// connection, blocking I/O, the chain inline (no hand-off at all). What it stores and how:
// bare_store.hpp.
// Usage: null_lmtp PORT [--store DIR [--workers 16 | --blocking]
//                       [--spool-over OCTETS --spool-dir DIR]]
//        (127.0.0.1; runs until SIGTERM/SIGINT)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "bare_store.hpp"

namespace {

volatile std::sig_atomic_t g_stop = 0;

// --store: where bodies spool (--spool-over, --spool-dir) and where messages go (null when
// storing nothing).
dovetail::bench::SpoolPolicy g_spool;
std::unique_ptr<dovetail::bench::MaildirStore> g_maildirs;

struct Conn {
  int fd = -1;
  std::string in;   // unconsumed command bytes
  std::string out;  // replies not yet written
  bool in_data = false;
  int data_state = 1;  // 0 mid-line, 1 line start, 2 "." at line start, 3 ".\r"
  int rcpts = 0;
  bool quit = false;
  bool want_out = false;  // EPOLLOUT registered
  bool paused = false;    // --store: no events wanted while the pool stores its message
  // --store only:
  std::vector<std::string> locals;  // recipients' mailboxes, "domain/local"
  dovetail::bench::Body body{&g_spool};  // raw DATA octets
  bool complete = false;            // a message ended: store it, then answer
  std::string held;                 // bytes that arrived after it (pipelining)
};

void answer_stored(Conn& c, bool ok) {
  for (size_t r = 0; r < c.locals.size(); ++r)
    c.out += ok ? "250 2.0.0 <bare> Saved\r\n" : "451 4.3.0 <bare> Not saved\r\n";
  c.locals.clear();
  c.body.clear();
  c.complete = false;
}

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
      if (nl == nullptr) {
        if (g_maildirs) c.body.append(p, n);
        return n;
      }
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
        if (g_maildirs) {
          c.body.append(p, i);
          c.body.drop_tail(3);  // the ".\r\n" end marker
          c.complete = true;
          return i;
        }
        for (int r = 0; r < c.rcpts; ++r) c.out += "250 2.0.0 <null> Saved nowhere\r\n";
        c.rcpts = 0;
        return i;
      }
      c.data_state = 0;
    }
  }
  if (g_maildirs) c.body.append(p, i);
  return i;
}

void handle_line(Conn& c, std::string_view line) {
  if (starts_with_ci(line, "LHLO") || starts_with_ci(line, "EHLO")) {
    c.out += "250-null\r\n250-PIPELINING\r\n250 8BITMIME\r\n";
  } else if (starts_with_ci(line, "MAIL")) {
    c.rcpts = 0;
    c.locals.clear();
    c.out += "250 2.1.0 OK\r\n";
  } else if (starts_with_ci(line, "RCPT")) {
    ++c.rcpts;
    if (g_maildirs) {
      // RCPT TO:<local@domain> -> mailbox "domain/local" (each kept to [A-Za-z0-9._-]).
      const size_t lt = line.find('<'), at = line.find('@'), gt = line.find('>');
      auto clean = [](std::string_view part) {
        std::string out;
        for (char ch : part)
          if (std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '_' || ch == '-') out += ch;
        return out.empty() || out[0] == '.' ? std::string("unknown") : out;
      };
      std::string local = "unknown/unknown";
      if (lt != std::string_view::npos && at != std::string_view::npos && gt != std::string_view::npos &&
          lt < at && at < gt)
        local = clean(line.substr(at + 1, gt - at - 1)) + "/" + clean(line.substr(lt + 1, at - lt - 1));
      c.locals.push_back(local);
    }
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
    if (c.complete) {  // a stored message is being answered: keep what follows for later
      c.held.append(p, n);
      return;
    }
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
      if (c.complete) break;
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


// --store: the chain runs on worker threads; the event thread learns of each finished one
// through `done_fd` (an eventfd) and the `finished` list.
struct Job {
  int fd;
  std::vector<std::string> locals;
  dovetail::bench::Body body;
};
struct Pool {
  std::mutex mutex;
  std::condition_variable wake;
  std::deque<Job> jobs;
  struct Finished {
    int fd;
    bool ok;
    dovetail::bench::Body body;  // back to its connection, capacity kept
  };
  std::vector<Finished> finished;
  int done_fd = -1;
  bool stopping = false;
  std::vector<std::thread> threads;

  void work() {
    for (;;) {
      Job job;
      {
        std::unique_lock lock(mutex);
        wake.wait(lock, [&] { return stopping || !jobs.empty(); });
        if (jobs.empty()) return;
        job = std::move(jobs.front());
        jobs.pop_front();
      }
      const bool ok = g_maildirs->store(job.locals, job.body);
      {
        std::lock_guard lock(mutex);
        finished.push_back(Finished{job.fd, ok, std::move(job.body)});
      }
      const uint64_t one = 1;
      (void)!::write(done_fd, &one, sizeof one);
    }
  }
};

// --blocking: one thread per connection, blocking I/O, the chain inline.
void serve_blocking(int fd) {
  Conn c;
  c.fd = fd;
  c.out = "220 bare LMTP\r\n";
  std::unique_ptr<char[]> buf(new char[65536]);
  for (;;) {
    while (!c.out.empty()) {
      const ssize_t w = ::send(fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        ::close(fd);
        return;
      }
      c.out.erase(0, static_cast<size_t>(w));
    }
    if (c.quit || g_stop) break;
    const ssize_t r = ::recv(fd, buf.get(), 65536, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    feed(c, buf.get(), static_cast<size_t>(r));
    while (c.complete) {
      answer_stored(c, g_maildirs->store(c.locals, c.body));
      std::string rest = std::move(c.held);
      c.held.clear();
      feed(c, rest.data(), rest.size());
    }
  }
  ::close(fd);
}

}  // namespace

int main(int argc, char** argv) {
  int workers = 16;
  bool blocking = false;
  const char* port = nullptr;
  std::string store;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--store" && i + 1 < argc) {
      store = argv[++i];
    } else if (a == "--workers" && i + 1 < argc) {
      workers = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--blocking") {
      blocking = true;
    } else if (a == "--spool-over" && i + 1 < argc) {
      g_spool.over = static_cast<size_t>(std::atol(argv[++i]));
    } else if (a == "--spool-dir" && i + 1 < argc) {
      g_spool.dir = argv[++i];
    } else if (port == nullptr && a[0] != '-') {
      port = argv[i];
    } else {
      port = nullptr;
      break;
    }
  }
  if (port == nullptr || (blocking && store.empty()) || (g_spool.over > 0 && g_spool.dir.empty())) {
    std::fprintf(stderr, "usage: null_lmtp PORT [--store DIR [--workers 16 | --blocking]\n"
                         "                      [--spool-over OCTETS --spool-dir DIR]]\n");
    return 64;
  }
  if (!store.empty()) {
    if (::mkdir(store.c_str(), 0700) != 0 && errno != EEXIST) {
      std::perror("null_lmtp: --store");
      return 1;
    }
    g_maildirs = std::make_unique<dovetail::bench::MaildirStore>(store);
  }
  std::signal(SIGTERM, [](int) { g_stop = 1; });
  std::signal(SIGINT, [](int) { g_stop = 1; });
  std::signal(SIGPIPE, SIG_IGN);
  int lfd = ::socket(AF_INET, SOCK_STREAM | (blocking ? 0 : SOCK_NONBLOCK) | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(std::atoi(port)));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(lfd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || ::listen(lfd, 4096) != 0) {
    std::perror("null_lmtp: bind/listen");
    return 1;
  }
  if (blocking) {
    // glibc restarts accept after SIGTERM: wait in poll() with a timeout to notice g_stop.
    while (!g_stop) {
      pollfd pfd{lfd, POLLIN, 0};
      if (::poll(&pfd, 1, 500) <= 0) continue;
      const int cfd = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
      if (cfd < 0) continue;
      ::setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      std::thread(serve_blocking, cfd).detach();
    }
    return 0;
  }
  int ep = ::epoll_create1(EPOLL_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = lfd;
  ::epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
  Pool pool;
  if (g_maildirs) {
    pool.done_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    ev.data.fd = pool.done_fd;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, pool.done_fd, &ev);
    for (int i = 0; i < workers; ++i) pool.threads.emplace_back([&pool] { pool.work(); });
  }
  std::unordered_map<int, std::unique_ptr<Conn>> conns;
  auto close_conn = [&](int fd) {
    ::epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
    ::close(fd);
    conns.erase(fd);
  };
  // After input or a finished store: hand a complete message to the pool, or write replies.
  auto progress = [&](Conn& c) -> bool {
    if (c.complete) {
      if (!flush(c)) return false;  // e.g. a 354 that came with the message (pipelining)
      {
        std::lock_guard lock(pool.mutex);
        pool.jobs.push_back(Job{c.fd, c.locals, std::move(c.body)});
      }
      pool.wake.notify_one();
      // Level-triggered: bytes the client sends meanwhile must not wake this loop until the
      // answer is out, so the connection asks for no events while its message is stored.
      epoll_event cev{};
      cev.data.fd = c.fd;
      ::epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &cev);
      c.paused = true;
      return true;
    }
    if (!flush(c) || (c.quit && c.out.empty())) return false;
    const bool want = !c.out.empty();
    if (want != c.want_out || c.paused) {
      c.want_out = want;
      c.paused = false;
      epoll_event cev{};
      cev.events = EPOLLIN | (want ? static_cast<uint32_t>(EPOLLOUT) : 0u);
      cev.data.fd = c.fd;
      ::epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &cev);
    }
    return true;
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
          c->out = g_maildirs ? "220 bare LMTP\r\n" : "220 null LMTP (stores nothing)\r\n";
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
      if (fd == pool.done_fd) {
        uint64_t count = 0;
        (void)!::read(fd, &count, sizeof count);
        std::vector<Pool::Finished> finished;
        {
          std::lock_guard lock(pool.mutex);
          finished.swap(pool.finished);
        }
        for (auto& f : finished) {
          const int cfd = f.fd;
          auto it = conns.find(cfd);
          if (it == conns.end()) continue;
          Conn& c = *it->second;
          c.body = std::move(f.body);
          answer_stored(c, f.ok);
          std::string rest = std::move(c.held);
          c.held.clear();
          feed(c, rest.data(), rest.size());
          if (!progress(c)) close_conn(cfd);
        }
        continue;
      }
      auto it = conns.find(fd);
      if (it == conns.end()) continue;
      Conn& c = *it->second;
      // Storing: read nothing until the answer is out. Never closed meanwhile either (a HUP
      // is seen again after it): the finished job finds its connection by this fd number.
      if (c.complete) continue;
      if (events[i].events & EPOLLOUT) {
        if (!progress(c)) {
          close_conn(fd);
          continue;
        }
      }
      if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        ssize_t r = ::recv(fd, buf, sizeof buf, 0);
        if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        if (r <= 0) {
          close_conn(fd);
          continue;
        }
        feed(c, buf, static_cast<size_t>(r));
        if (!progress(c)) {
          close_conn(fd);
          continue;
        }
      }
    }
  }
  {
    std::lock_guard lock(pool.mutex);
    pool.stopping = true;
  }
  pool.wake.notify_all();
  for (auto& t : pool.threads) t.join();
  return 0;
}
