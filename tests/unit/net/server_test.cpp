// Real sockets against net::Server with a tiny line protocol: limits, stale sockets,
// address in use, timeouts and graceful shutdown as a client sees them.
#include "net/server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <thread>

#include "testlib/temp_dir.hpp"

namespace dovetail::net {
namespace {

// "hello\r\n" on start; echoes each line as "ok <line>"; "quit" closes; "begin"/"end"
// open/close a transaction; on timeout says "timeout" and closes.
class LineProtocol : public StreamProtocol {
 public:
  void start() override { out_ += "hello\r\n"; }
  void feed(std::string_view b) override {
    in_.append(b);
    size_t pos;
    while ((pos = in_.find("\r\n")) != std::string::npos) {
      std::string line = in_.substr(0, pos);
      in_.erase(0, pos + 2);
      if (line == "quit") {
        out_ += "bye\r\n";
        close_ = true;
      } else if (line == "begin") {
        txn_ = true;
        out_ += "ok begin\r\n";
      } else if (line == "end") {
        txn_ = false;
        out_ += "ok end\r\n";
      } else {
        out_ += "ok " + line + "\r\n";
      }
    }
  }
  std::string take_output() override { return std::exchange(out_, {}); }
  bool should_close() const override { return close_; }
  bool wants_input() const override { return true; }
  std::chrono::milliseconds timeout() const override { return std::chrono::milliseconds(300); }
  void on_timeout() override {
    out_ += "timeout\r\n";
    close_ = true;
  }
  void on_eof(std::string_view) override { close_ = true; }
  bool in_transaction() const override { return txn_; }
  void on_shutdown() override {
    out_ += "shutdown\r\n";
    close_ = true;
  }

 private:
  std::string in_, out_;
  bool close_ = false;
  bool txn_ = false;
};

int connect_tcp(unsigned port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

int connect_unix(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::strncpy(sa.sun_path, path.c_str(), sizeof sa.sun_path - 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Reads until `want` appears or the peer closes; returns everything read.
std::string read_until(int fd, const std::string& want) {
  std::string got;
  char buf[512];
  while (got.find(want) == std::string::npos) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  return got;
}

void send_all(int fd, const std::string& s) { ASSERT_EQ(::write(fd, s.data(), s.size()), (ssize_t)s.size()); }

struct Running {
  explicit Running(std::vector<ListenSpec> specs, size_t limit = 0)
      : server(ServerOptions{2, 2}) {
    server.set_protocol_factory([](ConnectionContext&) { return std::make_unique<LineProtocol>(); });
    server.set_connection_limit(limit, "421 4.3.2 test Too many connections\r\n");
    auto r = server.listen(specs);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
    if (r) bound = *r;
    thread = std::thread([this] { server.run(); });
  }
  ~Running() {
    server.shutdown();
    thread.join();
  }
  Server server;
  std::vector<ListenSpec> bound;
  std::thread thread;
};

ListenSpec loopback(unsigned port = 0) { return {ListenSpec::Kind::kInet, "t", "127.0.0.1", port}; }

TEST(Server, PortZeroReportsRealPortAndServes) {
  Running r({loopback()});
  ASSERT_EQ(r.bound.size(), 1u);
  ASSERT_NE(r.bound[0].port, 0u);
  int fd = connect_tcp(r.bound[0].port);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(read_until(fd, "hello\r\n"), "hello\r\n");
  send_all(fd, "a\r\nb\r\nquit\r\n");
  EXPECT_EQ(read_until(fd, "bye\r\n"), "ok a\r\nok b\r\nbye\r\n");
  EXPECT_EQ(read_until(fd, "never"), "");  // closed after QUIT
  ::close(fd);
}

TEST(Server, ConnectionLimitAnswers421) {
  Running r({loopback()}, 2);
  int a = connect_tcp(r.bound[0].port), b = connect_tcp(r.bound[0].port);
  EXPECT_EQ(read_until(a, "\r\n"), "hello\r\n");
  EXPECT_EQ(read_until(b, "\r\n"), "hello\r\n");
  int c = connect_tcp(r.bound[0].port);
  EXPECT_EQ(read_until(c, "never"), "421 4.3.2 test Too many connections\r\n");
  ::close(c);
  send_all(a, "quit\r\n");
  read_until(a, "never");
  ::close(a);
  // A slot is free again once a connection is gone.
  std::string got;
  for (int i = 0; i < 50 && got != "hello\r\n"; ++i) {
    int d = connect_tcp(r.bound[0].port);
    got = read_until(d, "\r\n");
    ::close(d);
    if (got != "hello\r\n") std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(got, "hello\r\n");
  ::close(b);
}

TEST(Server, IdleTimeoutCallsProtocol) {
  Running r({loopback()});
  int fd = connect_tcp(r.bound[0].port);
  EXPECT_EQ(read_until(fd, "never"), "hello\r\ntimeout\r\n");
  ::close(fd);
}

TEST(Server, PeerThatNeverReadsIsDroppedAfterTimeout) {
  Running r({loopback()});
  int fd = connect_tcp(r.bound[0].port);
  int small = 4096;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  ::fcntl(fd, F_SETFL, O_NONBLOCK);
  // Pipeline far more than the server may buffer, never reading the echoes.
  std::string chunk;
  for (int i = 0; i < 1024; ++i) chunk += "some-line-to-echo-back\r\n";
  for (int i = 0; i < 4000; ++i) {
    if (::write(fd, chunk.data(), chunk.size()) < 0) break;
  }
  // Stay unresponsive for longer than the protocol's timeout, then read everything: the
  // server must have given up and closed (EOF), not hung forever.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  ::fcntl(fd, F_SETFL, 0);
  timeval tv{20, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) {
  }
  EXPECT_TRUE(n == 0 || errno == ECONNRESET) << "read returned " << n << " errno " << errno;
  ::close(fd);
}

// Replies are written straight to the socket first; what does not fit (a slow reader with a
// small buffer) must follow in order, none lost or repeated, before the connection closes.
TEST(Server, OutputThatDoesNotFitArrivesWholeAndInOrder) {
  Running r({loopback()});
  int fd = connect_tcp(r.bound[0].port);
  int small = 32768;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  std::string request, want = "hello\r\n";
  const std::string pad(2000, 'x');  // 8 MB of replies: more than the kernel buffers hold
  for (int i = 0; i < 4000; ++i) {
    request += "line-" + std::to_string(i) + pad + "\r\n";
    want += "ok line-" + std::to_string(i) + pad + "\r\n";
  }
  request += "quit\r\n";
  want += "bye\r\n";
  std::thread writer([&] { send_all(fd, request); });
  // Let the server's buffer fill, but stay well inside the protocol's 300 ms timeout: a pause
  // as long as the timeout raced it, and a loaded machine lost the race (ECONNRESET in CI).
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  timeval tv{20, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string got;
  char buf[4096];  // a slow reader: small reads
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) got.append(buf, static_cast<size_t>(n));
  writer.join();
  EXPECT_EQ(n, 0) << "errno " << errno;  // closed after "bye", not reset or timed out
  EXPECT_EQ(got.size(), want.size());
  EXPECT_TRUE(got == want);
  ::close(fd);
}

TEST(Server, PortInUseIsAClearError) {
  Running r({loopback()});
  Server second(ServerOptions{1, 1});
  auto res = second.listen({loopback(r.bound[0].port)});
  ASSERT_FALSE(res.has_value());
  EXPECT_NE(res.error().message.find("127.0.0.1:" + std::to_string(r.bound[0].port)), std::string::npos)
      << res.error().message;
  EXPECT_NE(res.error().message.find("in use"), std::string::npos) << res.error().message;
}

TEST(Server, StaleUnixSocketIsReplaced) {
  testlib::TempDir dir;
  std::string path = dir.str() + "/lmtp";
  {  // leave a socket file nobody listens on
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::strncpy(sa.sun_path, path.c_str(), sizeof sa.sun_path - 1);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
    ::close(fd);
  }
  ListenSpec spec;
  spec.kind = ListenSpec::Kind::kUnix;
  spec.path = path;
  spec.mode = 0660;
  Running r({spec});
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  int fd = connect_unix(path);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(read_until(fd, "\r\n"), "hello\r\n");
  ::close(fd);

  // A live socket is never stolen, and a regular file is never removed.
  Server other(ServerOptions{1, 1});
  auto res = other.listen({spec});
  ASSERT_FALSE(res.has_value());
  EXPECT_NE(res.error().message.find("another process is listening"), std::string::npos);
  ListenSpec file = spec;
  file.path = dir.write("plain", "data").string();
  auto res2 = other.listen({file});
  ASSERT_FALSE(res2.has_value());
  EXPECT_NE(res2.error().message.find("not a socket"), std::string::npos);
  EXPECT_EQ(testlib::read_file(file.path), "data");
}

TEST(Server, ShutdownWaitsForOpenTransaction) {
  auto r = std::make_unique<Running>(std::vector<ListenSpec>{loopback()});
  int idle = connect_tcp(r->bound[0].port);
  int busy = connect_tcp(r->bound[0].port);
  read_until(idle, "\r\n");
  read_until(busy, "\r\n");
  send_all(busy, "begin\r\n");
  EXPECT_EQ(read_until(busy, "ok begin\r\n"), "ok begin\r\n");
  r->server.shutdown();
  EXPECT_EQ(read_until(idle, "never"), "shutdown\r\n");
  send_all(busy, "x\r\nend\r\n");
  EXPECT_EQ(read_until(busy, "never"), "ok x\r\nok end\r\nshutdown\r\n");
  r->thread.join();  // run() returned: drained
  r->thread = std::thread([] {});
  ::close(idle);
  ::close(busy);
}

}  // namespace
}  // namespace dovetail::net
