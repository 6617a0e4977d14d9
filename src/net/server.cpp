// Why callbacks and not coroutines: each idle connection must cost a few hundred bytes;
// a parked coroutine frame plus its buffer costs more and hides the backpressure logic.
#include "net/server.hpp"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <asio.hpp>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <list>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "base/log.hpp"

namespace dovetail::net {

namespace {
constexpr size_t kReadChunk = 64 * 1024;
using Clock = asio::steady_timer::clock_type;
constexpr size_t kMaxUnsentOutput = 256 * 1024;  // stop reading while the peer lags this far

char* read_buffer() {
  thread_local std::unique_ptr<char[]> buf(new char[kReadChunk]);
  return buf.get();
}

class ConnectionBase {
 public:
  virtual ~ConnectionBase() = default;
  virtual void begin_drain() = 0;
};

// A descriptor someone else owns (a writer channel), registered with one event loop and
// kept there: waiting on it again costs no epoll_ctl. Never closes the fd.
struct Watched {
  explicit Watched(asio::posix::stream_descriptor descriptor) : d(std::move(descriptor)) {}
  ~Watched() { d.release(); }
  asio::posix::stream_descriptor d;
};

// Per event thread: its io_context and the connections living on it (for shutdown).
// `context` is declared after `mutex` and `connections` so it is destroyed before them:
// destroying it destroys uninvoked handlers, which may destroy connections, which unregister
// under `mutex`. `watched` comes last, destroyed first, while the loop it is registered
// with still exists. `watched` is touched only by the slot's own thread.
struct Slot {
  std::mutex mutex;
  std::list<std::weak_ptr<ConnectionBase>> connections;
  asio::io_context context{1};
  std::unordered_map<int, std::unique_ptr<Watched>> watched;
};
}  // namespace

namespace detail {
struct ServerState : std::enable_shared_from_this<ServerState> {
  explicit ServerState(ServerOptions o)
      : options(o), pool(o.blocking_threads) {
    unsigned n = o.io_threads ? o.io_threads : std::max(1u, std::thread::hardware_concurrency());
    for (unsigned i = 0; i < n; ++i) {
      slots.push_back(std::make_unique<Slot>());
      guards.emplace_back(asio::make_work_guard(slots.back()->context));
    }
  }

  Slot& next_slot() { return *slots[next.fetch_add(1, std::memory_order_relaxed) % slots.size()]; }
  asio::io_context& main() { return slots[0]->context; }

  void connection_gone() {
    if (count.fetch_sub(1) == 1 && draining.load()) finish();
  }
  void finish() {
    bool expected = false;
    if (!finished.compare_exchange_strong(expected, true)) return;
    asio::post(main(), [self = shared_from_this()] {
      if (self->signals) self->signals->cancel();
      for (auto& g : self->guards) g.reset();
      for (auto& s : self->slots) s->context.stop();
    });
  }

  ServerOptions options;
  BlockingPool pool;
  std::vector<std::unique_ptr<Slot>> slots;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  std::atomic<size_t> next{0};
  std::atomic<size_t> count{0};
  std::atomic<bool> draining{false};
  std::atomic<bool> finished{false};
  ProtocolFactory factory;
  std::mutex limit_mutex;
  size_t limit = 0;
  std::string limit_reply;
  std::vector<std::unique_ptr<asio::ip::tcp::acceptor>> tcp_acceptors;
  std::vector<std::unique_ptr<asio::local::stream_protocol::acceptor>> unix_acceptors;
  std::vector<ListenSpec> tcp_specs, unix_specs;
  std::unique_ptr<asio::signal_set> signals;
  std::function<void()> on_hup;
};
}  // namespace detail
using Impl = detail::ServerState;

namespace {

template <class Socket>
class Connection final : public ConnectionBase,
                         public ConnectionContext,
                         public std::enable_shared_from_this<Connection<Socket>> {
 public:
  Connection(std::shared_ptr<Impl> server, Slot& slot, Socket socket, PeerInfo peer)
      : server_(std::move(server)),
        slot_(slot),
        socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        peer_(std::move(peer)) {}

  ~Connection() override {
    {
      std::lock_guard lock(slot_.mutex);
      if (registered_) slot_.connections.erase(entry_);
    }
    server_->connection_gone();
  }

  void start() {
    {
      std::lock_guard lock(slot_.mutex);
      slot_.connections.push_front(this->weak_from_this());
      entry_ = slot_.connections.begin();
      registered_ = true;
    }
    asio::error_code ec;
    socket_.non_blocking(true, ec);
    protocol_ = server_->factory ? server_->factory(*this) : nullptr;
    if (!protocol_) {
      close();
      return;
    }
    protocol_->start();
    pump();
  }

  void begin_drain() override {
    draining_ = true;
    if (!closed_) pump();
  }

  void wakeup() override { pump(); }

  ConnectionHandle handle() override {
    auto self = this->shared_from_this();
    return ConnectionHandle(self, [self](std::function<void()> fn) {
      asio::post(self->socket_.get_executor(), [self, fn = std::move(fn)] { fn(); });
    });
  }

  void when_readable(int fd, std::function<void(Readiness)> fn) override {
    auto found = slot_.watched.find(fd);
    if (found == slot_.watched.end()) {
      try {
        auto w = std::make_unique<Watched>(asio::posix::stream_descriptor(socket_.get_executor(), fd));
        found = slot_.watched.emplace(fd, std::move(w)).first;
      } catch (const std::exception&) {  // epoll refused it: the caller reads blocking instead
        asio::post(socket_.get_executor(),
                   [self = this->shared_from_this(), fn = std::move(fn)] { fn(Readiness::kWaitFailed); });
        return;
      }
    }
    found->second->d.async_wait(asio::posix::stream_descriptor::wait_read,
                                [self = this->shared_from_this(), fd, fn = std::move(fn)](const asio::error_code& ec) {
                                  if (!ec) {
                                    fn(Readiness::kReadable);
                                    return;
                                  }
                                  // Registered afresh next time: a new registration reports
                                  // the descriptor's current state.
                                  self->slot_.watched.erase(fd);
                                  fn(Readiness::kWaitFailed);
                                });
  }

  const PeerInfo& peer() const override { return peer_; }

 private:
  void pump() {
    if (closed_) return;
    if (!draining_ && server_->draining.load(std::memory_order_relaxed)) draining_ = true;
    append_output(protocol_->take_output());
    if (draining_ && !goodbye_ && !protocol_->should_close() && !protocol_->in_transaction()) {
      goodbye_ = true;
      protocol_->on_shutdown();
      append_output(protocol_->take_output());
    }
    start_write();
    if (protocol_->should_close()) {
      if (!writing_) close();
      return;
    }
    if (reading_)
      arm_timer();
    else
      maybe_read();
  }

  void append_output(std::string out) {
    if (out.empty()) return;
    if (pending_.empty())
      pending_ = std::move(out);
    else
      pending_ += out;
  }

  void start_write() {
    if (writing_ || pending_.empty() || closed_) return;
    // First straight to the socket (non-blocking): a reply nearly always fits its buffer,
    // and a completed async_write is a queued handler, which costs the event loop one more
    // epoll_wait (with a zero timeout) for every reply. Whatever is left, or an error, goes
    // the asynchronous way, whose handler reports a failure outside the protocol's call.
    asio::error_code direct;
    const size_t sent = socket_.write_some(asio::buffer(pending_), direct);
    if (!direct && sent == pending_.size()) {
      pending_ = std::string();  // release the capacity while idle
      return;
    }
    writing_ = true;
    in_flight_ = direct ? std::move(pending_) : pending_.substr(sent);
    pending_ = std::string();
    asio::async_write(socket_, asio::buffer(in_flight_),
                      [self = this->shared_from_this()](const asio::error_code& ec, size_t) {
                        self->writing_ = false;
                        self->in_flight_ = std::string();  // release the capacity while idle
                        if (self->closed_) return;
                        if (ec) {
                          self->protocol_->on_eof("write failed: " + ec.message());
                          self->close();
                          return;
                        }
                        self->pump();
                      });
  }

  void maybe_read() {
    if (reading_ || closed_ || protocol_->should_close()) return;
    if (!protocol_->wants_input()) {
      deadline_ = Clock::time_point::max();
      return;
    }
    if (pending_.size() + in_flight_.size() > kMaxUnsentOutput) {
      arm_timer();  // a peer that never reads its replies must not hold the slot forever
      return;  // reading resumes after the write
    }
    reading_ = true;
    arm_timer();
    if (protocol_->in_transaction()) {
      // Within a transaction the next bytes come soon: a read with the connection's own
      // buffer lets Asio skip the epoll_ctl re-arm that every async_wait costs (edge-triggered
      // registration, no speculative recv while the socket is known to be drained). Idle
      // connections keep no buffer (10,000 of them must stay small) and wait without one.
      if (!txn_buffer_) txn_buffer_ = std::make_unique_for_overwrite<char[]>(kReadChunk);
      socket_.async_read_some(asio::buffer(txn_buffer_.get(), kReadChunk),
                              [self = this->shared_from_this()](const asio::error_code& ec, size_t n) {
                                self->reading_ = false;
                                if (self->closed_) return;
                                if (ec == asio::error::operation_aborted) {
                                  if (!self->timed_out_) self->pump();
                                  return;
                                }
                                self->on_bytes(ec, self->txn_buffer_.get(), n);
                              });
      return;
    }
    txn_buffer_.reset();
    socket_.async_wait(Socket::wait_read, [self = this->shared_from_this()](const asio::error_code& ec) {
      self->reading_ = false;
      if (self->closed_) return;
      if (ec == asio::error::operation_aborted) {
        if (!self->timed_out_) self->pump();
        return;
      }
      if (ec) {
        self->protocol_->on_eof("read failed: " + ec.message());
        self->close();
        return;
      }
      self->on_readable();
    });
  }

  void on_readable() {
    asio::error_code ec;
    char* buf = read_buffer();
    size_t n = socket_.read_some(asio::buffer(buf, kReadChunk), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      maybe_read();
      return;
    }
    on_bytes(ec, buf, n);
  }

  void on_bytes(const asio::error_code& ec, const char* buf, size_t n) {
    if (ec || n == 0) {
      protocol_->on_eof(n == 0 && (!ec || ec == asio::error::eof) ? std::string() : "read failed: " + ec.message());
      close();
      return;
    }
    protocol_->feed(std::string_view(buf, n));
    pump();
  }

  // The deadline moves on every read and reply; re-arming the Asio timer each time costs a
  // timerfd_settime and a cancelled handler (several per message, ~2.5 us per syscall on
  // this kind of VM). So the timer is armed lazily: it only ever moves *earlier*; when it
  // fires before the current deadline it is re-armed for the rest.
  void arm_timer() {
    auto t = protocol_->timeout();
    if (t.count() <= 0) {
      deadline_ = Clock::time_point::max();  // a pending wait, if any, finds nothing due
      return;
    }
    deadline_ = Clock::now() + t;
    if (!timer_armed_ || timer_expiry_ > deadline_) start_timer(deadline_);
  }

  void start_timer(Clock::time_point at) {
    ++timer_generation_;
    timer_armed_ = true;
    timer_expiry_ = at;
    timer_.expires_at(at);
    timer_.async_wait([self = this->shared_from_this(), g = timer_generation_](const asio::error_code& ec) {
      if (g != self->timer_generation_) return;  // superseded by an earlier expiry
      self->timer_armed_ = false;
      if (ec || self->closed_ || self->deadline_ == Clock::time_point::max()) return;
      if (Clock::now() < self->deadline_) {
        self->start_timer(self->deadline_);
        return;
      }
      self->on_deadline();
    });
  }

  void on_deadline() {
    if (writing_) {
      // The peer has not taken our output for a whole timeout: a polite 421 would queue
      // behind it, so just drop the connection.
      protocol_->on_eof("write timed out (the client took no output)");
      close();
      return;
    }
    timed_out_ = true;
    asio::error_code ignored;
    socket_.cancel(ignored);
    protocol_->on_timeout();
    pump();
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    timer_.cancel();
    asio::error_code ec;
    // No shutdown(): no other process shares the descriptor, so close() alone sends the FIN
    // (after QUIT the client has usually closed first, and shutdown() failed with ENOTCONN).
    socket_.close(ec);
  }

  std::shared_ptr<Impl> server_;
  Slot& slot_;
  std::list<std::weak_ptr<ConnectionBase>>::iterator entry_;
  bool registered_ = false;
  Socket socket_;
  asio::steady_timer timer_;
  PeerInfo peer_;
  std::unique_ptr<StreamProtocol> protocol_;
  std::string pending_;
  std::string in_flight_;
  std::unique_ptr<char[]> txn_buffer_;  // only while a transaction is open (see maybe_read)
  unsigned timer_generation_ = 0;
  Clock::time_point deadline_ = Clock::time_point::max();
  Clock::time_point timer_expiry_{};
  bool timer_armed_ = false;
  bool reading_ = false;
  bool writing_ = false;
  bool closed_ = false;
  bool draining_ = false;
  bool goodbye_ = false;
  bool timed_out_ = false;
};

// What a listener knows before any client arrives. accept() already returns the peer's
// address, and a listener bound to one address has that as every connection's local
// address: only a wildcard listener needs getsockname() per connection. Two system calls
// fewer per connection (smtp-source, and Postfix without its connection cache, open one
// per message).
template <class Acceptor>
struct AcceptState {
  Acceptor* acceptor = nullptr;
  const ListenSpec* spec = nullptr;
  typename Acceptor::endpoint_type peer;          // filled in by each accept
  std::optional<typename Acceptor::endpoint_type> local;  // set when not a wildcard
};

std::string plain_address(asio::ip::address a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) a = asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
  return a.to_string();
}

PeerInfo peer_of(asio::ip::tcp::socket& s, const AcceptState<asio::ip::tcp::acceptor>& st) {
  PeerInfo p;
  p.remote_ip = plain_address(st.peer.address());
  p.remote_port = st.peer.port();
  asio::error_code ec;
  const auto l = st.local ? *st.local : s.local_endpoint(ec);
  if (!ec) {
    p.local_ip = plain_address(l.address());
    p.local_port = l.port();
  }
  p.listener = st.spec->describe();
  return p;
}

PeerInfo peer_of(asio::local::stream_protocol::socket&, const AcceptState<asio::local::stream_protocol::acceptor>& st) {
  PeerInfo p;
  p.unix_socket = true;
  p.listener = st.spec->describe();
  return p;
}

std::optional<asio::ip::tcp::endpoint> fixed_local(asio::ip::tcp::acceptor& a) {
  asio::error_code ec;
  auto ep = a.local_endpoint(ec);
  if (ec || ep.address().is_unspecified()) return std::nullopt;
  return ep;
}

std::optional<asio::local::stream_protocol::endpoint> fixed_local(asio::local::stream_protocol::acceptor&) {
  return std::nullopt;
}

// Asio does not open sockets close-on-exec; the listeners exist before the privileged writer
// is executed, and a listener held by it would keep accepting after a SIGTERM closed ours.
// (The writer also closes what it inherits beyond its channels; this keeps the rule where
// the descriptor is made.) FD_CLOEXEC is the only descriptor flag: one F_SETFD, no F_GETFD.
void set_cloexec(int fd) { ::fcntl(fd, F_SETFD, FD_CLOEXEC); }

// Over the limit: one best-effort non-blocking write of the reply, then close.
template <class Socket>
void refuse(Socket& socket, const std::string& reply) {
  asio::error_code ec;
  socket.non_blocking(true, ec);
  socket.write_some(asio::buffer(reply), ec);
  socket.shutdown(Socket::shutdown_both, ec);
  socket.close(ec);
}

template <class Acceptor>
void accept_loop(std::shared_ptr<Impl> impl, std::shared_ptr<AcceptState<Acceptor>> st) {
  using Socket = typename Acceptor::protocol_type::socket;
  Slot& slot = impl->next_slot();
  st->acceptor->async_accept(slot.context, st->peer, [impl, st, &slot](const asio::error_code& ec, Socket socket) {
    Acceptor* acceptor = st->acceptor;
    if (ec == asio::error::operation_aborted || !acceptor->is_open()) return;
    if (ec) {
      // EMFILE/ENFILE: back off instead of spinning; the log says why.
      base::log::error("net: ", "accept on " + st->spec->describe() + " failed: " + ec.message());
      auto timer = std::make_shared<asio::steady_timer>(acceptor->get_executor(), std::chrono::milliseconds(100));
      timer->async_wait([impl, st, timer](const asio::error_code&) { accept_loop(impl, st); });
      return;
    }
    size_t limit;
    std::string reply;
    {
      std::lock_guard lock(impl->limit_mutex);
      limit = impl->limit;
      if (limit) reply = impl->limit_reply;
    }
    if (limit != 0 && impl->count.load() >= limit) {
      refuse(socket, reply);
    } else {
      // Close-on-exec for any program started later (a Sieve redirect's sendmail, one day).
      set_cloexec(socket.native_handle());
      impl->count.fetch_add(1);
      PeerInfo peer = peer_of(socket, *st);
      auto conn = std::make_shared<Connection<Socket>>(impl, slot, std::move(socket), std::move(peer));
      asio::post(slot.context, [conn] { conn->start(); });
    }
    accept_loop(impl, st);
  });
}

template <class Acceptor>
void start_accepting(std::shared_ptr<Impl> impl, Acceptor* acceptor, const ListenSpec* spec) {
  auto st = std::make_shared<AcceptState<Acceptor>>();
  st->acceptor = acceptor;
  st->spec = spec;
  st->local = fixed_local(*acceptor);
  accept_loop(std::move(impl), std::move(st));
}

// Dovecot's rule: replace only a socket nobody answers on.
base::Status prepare_unix_path(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      std::error_code ec;
      std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
      return {};
    }
    return base::fail(base::Error::from_errno(errno, "unix:" + path + ": lstat"));
  }
  if (!S_ISSOCK(st.st_mode))
    return base::fail(base::Error::config("unix:" + path + ": exists and is not a socket; not replacing it"));
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return base::fail(base::Error::from_errno(errno, "socket"));
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::strncpy(sa.sun_path, path.c_str(), sizeof(sa.sun_path) - 1);
  int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa));
  int err = errno;
  ::close(fd);
  if (rc == 0)
    return base::fail(base::Error::config("unix:" + path + ": another process is listening on it"));
  if (err != ECONNREFUSED && err != ENOENT)
    return base::fail(base::Error::from_errno(err, "unix:" + path + ": probing existing socket"));
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    return base::fail(base::Error::from_errno(errno, "unix:" + path + ": removing stale socket"));
  return {};
}

base::Status apply_owner_and_mode(const ListenSpec& spec) {
  if (::chmod(spec.path.c_str(), spec.mode) != 0)
    return base::fail(base::Error::from_errno(errno, "unix:" + spec.path + ": chmod"));
  uid_t uid = static_cast<uid_t>(-1);
  gid_t gid = static_cast<gid_t>(-1);
  if (!spec.user.empty()) {
    passwd* pw = ::getpwnam(spec.user.c_str());
    if (!pw) return base::fail(base::Error::config("unix:" + spec.path + ": unknown user '" + spec.user + "'"));
    uid = pw->pw_uid;
  }
  if (!spec.group.empty()) {
    group* gr = ::getgrnam(spec.group.c_str());
    if (!gr) return base::fail(base::Error::config("unix:" + spec.path + ": unknown group '" + spec.group + "'"));
    gid = gr->gr_gid;
  }
  if ((uid != static_cast<uid_t>(-1) || gid != static_cast<gid_t>(-1)) &&
      ::chown(spec.path.c_str(), uid, gid) != 0)
    return base::fail(base::Error::from_errno(errno, "unix:" + spec.path + ": chown"));
  return {};
}

}  // namespace

Server::Server(ServerOptions options) : impl_(std::make_shared<Impl>(options)) {}

Server::~Server() {
  for (auto& s : impl_->unix_specs) ::unlink(s.path.c_str());
  // Pending handlers (accepts, signal waits, posted completions) hold the state alive; the
  // event threads are gone, so destroy the I/O objects, then the contexts with their
  // uninvoked handlers (Asio's documented shared_ptr pattern). This breaks the cycle.
  impl_->finished.store(true);  // no finish() from connections destroyed below
  impl_->signals.reset();
  impl_->tcp_acceptors.clear();
  impl_->unix_acceptors.clear();
  impl_->guards.clear();
  auto slots = std::move(impl_->slots);
  slots.clear();
  impl_->factory = nullptr;
}

base::Result<std::vector<ListenSpec>> Server::listen(const std::vector<ListenSpec>& specs) {
  std::vector<ListenSpec> bound;
  std::vector<std::unique_ptr<asio::ip::tcp::acceptor>> tcp;
  std::vector<std::unique_ptr<asio::local::stream_protocol::acceptor>> unix_;
  std::vector<ListenSpec> tcp_specs, unix_specs;
  auto cleanup_unix = [&] {
    for (auto& s : unix_specs) ::unlink(s.path.c_str());
  };
  for (const auto& spec : specs) {
    asio::error_code ec;
    if (spec.kind == ListenSpec::Kind::kInet) {
      auto addr = asio::ip::make_address(spec.address, ec);
      if (ec) {
        cleanup_unix();
        return base::fail(base::Error::config(spec.describe() + ": invalid address"));
      }
      asio::ip::tcp::endpoint ep(addr, static_cast<unsigned short>(spec.port));
      auto acc = std::make_unique<asio::ip::tcp::acceptor>(impl_->main());
      acc->open(ep.protocol(), ec);
      if (!ec) set_cloexec(acc->native_handle());
      if (!ec && addr.is_v6()) acc->set_option(asio::ip::v6_only(true), ec);
      if (!ec) acc->set_option(asio::socket_base::reuse_address(true), ec);
      if (!ec) acc->bind(ep, ec);
      if (!ec) acc->listen(asio::socket_base::max_listen_connections, ec);
      if (ec) {
        cleanup_unix();
        return base::fail(base::Error{base::ErrorKind::kConfig, ec.value(),
                                      spec.describe() + ": " + ec.message()});
      }
      ListenSpec real = spec;
      real.port = acc->local_endpoint().port();
      tcp.push_back(std::move(acc));
      tcp_specs.push_back(real);
      bound.push_back(real);
    } else {
      if (spec.path.size() >= sizeof(sockaddr_un::sun_path)) {
        cleanup_unix();
        return base::fail(base::Error::config("unix:" + spec.path + ": path too long"));
      }
      if (auto st = prepare_unix_path(spec.path); !st) {
        cleanup_unix();
        return base::fail(st.error());
      }
      auto acc = std::make_unique<asio::local::stream_protocol::acceptor>(impl_->main());
      asio::local::stream_protocol::endpoint ep(spec.path);
      acc->open(ep.protocol(), ec);
      if (!ec) set_cloexec(acc->native_handle());
      if (!ec) acc->bind(ep, ec);
      if (!ec) acc->listen(asio::socket_base::max_listen_connections, ec);
      if (ec) {
        cleanup_unix();
        return base::fail(base::Error{base::ErrorKind::kConfig, ec.value(),
                                      spec.describe() + ": " + ec.message()});
      }
      unix_specs.push_back(spec);
      if (auto st = apply_owner_and_mode(spec); !st) {
        cleanup_unix();
        return base::fail(st.error());
      }
      unix_.push_back(std::move(acc));
      bound.push_back(spec);
    }
  }
  for (auto& a : tcp) impl_->tcp_acceptors.push_back(std::move(a));
  for (auto& a : unix_) impl_->unix_acceptors.push_back(std::move(a));
  for (auto& s : tcp_specs) impl_->tcp_specs.push_back(s);
  for (auto& s : unix_specs) impl_->unix_specs.push_back(s);
  return bound;
}

void Server::set_protocol_factory(ProtocolFactory factory) { impl_->factory = std::move(factory); }

void Server::set_connection_limit(size_t limit, std::string reply) {
  std::lock_guard lock(impl_->limit_mutex);
  impl_->limit = limit;
  impl_->limit_reply = std::move(reply);
}

void Server::handle_signals(std::function<void()> on_hup) {
  impl_->on_hup = std::move(on_hup);
  impl_->signals = std::make_unique<asio::signal_set>(impl_->main(), SIGTERM, SIGINT, SIGHUP);
  struct Waiter {
    static void wait(std::shared_ptr<Impl> impl, Server* server) {
      impl->signals->async_wait([impl, server](const asio::error_code& ec, int signo) {
        if (ec) return;
        if (signo == SIGHUP) {
          if (impl->on_hup) impl->on_hup();
          wait(impl, server);
          return;
        }
        server->shutdown();
      });
    }
  };
  Waiter::wait(impl_, this);
}

BlockingPool& Server::blocking_pool() { return impl_->pool; }

size_t Server::connections() const { return impl_->count.load(); }

int Server::run() {
  // Acceptors live on the first context; accepted sockets on any.
  for (size_t i = 0; i < impl_->tcp_acceptors.size(); ++i)
    start_accepting(impl_, impl_->tcp_acceptors[i].get(), &impl_->tcp_specs[i]);
  for (size_t i = 0; i < impl_->unix_acceptors.size(); ++i)
    start_accepting(impl_, impl_->unix_acceptors[i].get(), &impl_->unix_specs[i]);
  std::vector<std::thread> threads;
  for (size_t i = 1; i < impl_->slots.size(); ++i)
    threads.emplace_back([slot = impl_->slots[i].get()] { slot->context.run(); });
  impl_->slots[0]->context.run();
  for (auto& t : threads) t.join();
  impl_->pool.join();
  return 0;
}

void Server::shutdown() {
  if (impl_->draining.exchange(true)) return;
  asio::post(impl_->main(), [impl = impl_] {
    asio::error_code ec;
    for (auto& a : impl->tcp_acceptors) a->close(ec);
    for (auto& a : impl->unix_acceptors) a->close(ec);
    for (auto& s : impl->unix_specs) ::unlink(s.path.c_str());
    impl->unix_specs.clear();
    for (auto& slot : impl->slots) {
      asio::post(slot->context, [s = slot.get()] {
        std::vector<std::shared_ptr<ConnectionBase>> live;
        {
          std::lock_guard lock(s->mutex);
          for (auto& w : s->connections)
            if (auto c = w.lock()) live.push_back(std::move(c));
        }
        for (auto& c : live) c->begin_drain();
      });
    }
    if (impl->count.load() == 0) impl->finish();
  });
}

}  // namespace dovetail::net
