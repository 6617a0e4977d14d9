// stream_protocol.hpp — the contract between a byte-stream connection and a sans-I/O
// protocol core (the LMTP server session lives behind it, adapted in lmtpd).
//
// Purpose: net owns sockets, timers and threads; the protocol owns meaning. A Connection
// calls start(), then loops feed() -> take_output() -> write, stops reading while
// wants_input() is false, arms a timer of timeout() between reads and closes after
// should_close() once everything is written.
// Depends on: std only. Error contract: no method throws; a protocol that wants out says so
// through should_close(). Threading: every method is called on the connection's thread;
// ConnectionHandle::post() is the only thing usable from other threads.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace dovetail::net {

struct PeerInfo {
  std::string remote_ip;  // empty for UNIX-socket peers
  unsigned remote_port = 0;
  std::string local_ip;
  unsigned local_port = 0;
  bool unix_socket = false;
  std::string listener;  // ListenSpec::describe() of the accepting listener
};

// A strong, copyable reference to a live connection; keeps it (and its protocol) alive
// until dropped. post() runs fn on the connection's thread; callable from any thread.
class ConnectionHandle {
 public:
  ConnectionHandle() = default;
  explicit ConnectionHandle(std::shared_ptr<void> keep,
                            std::function<void(std::function<void()>)> post)
      : keep_(std::move(keep)), post_(std::move(post)) {}
  void post(std::function<void()> fn) const {
    if (post_) post_(std::move(fn));
  }
  explicit operator bool() const { return static_cast<bool>(keep_); }

 private:
  std::shared_ptr<void> keep_;
  std::function<void(std::function<void()>)> post_;
};

// What ConnectionContext::when_readable reports.
enum class Readiness { kReadable, kWaitFailed };

// What the connection offers its protocol. Valid for the protocol's whole lifetime.
class ConnectionContext {
 public:
  virtual ~ConnectionContext() = default;
  // Call on the connection thread when the protocol has new output or can read again
  // (e.g. an asynchronous handler completed).
  virtual void wakeup() = 0;
  // A handle for work that completes elsewhere (blocking pool) and posts back.
  virtual ConnectionHandle handle() = 0;
  // Runs fn on the connection thread once `fd` is readable, or with kWaitFailed when the
  // event loop could not wait on it. The connection stays alive until then. For work that
  // completes in another process and answers on a socket: no thread has to block for it.
  // fd stays the caller's, and must stay open, as the same file, for as long as the server
  // runs (the privileged writer's channels): each event thread registers it with its loop
  // once and keeps it, so a wait costs no system call. The price: readiness can be stale
  // (an event left from an earlier use of fd), so fn must read without blocking and wait
  // again if nothing is there.
  virtual void when_readable(int fd, std::function<void(Readiness)> fn) = 0;
  virtual const PeerInfo& peer() const = 0;
};

class StreamProtocol {
 public:
  virtual ~StreamProtocol() = default;
  virtual void start() = 0;
  virtual void feed(std::string_view bytes) = 0;
  virtual std::string take_output() = 0;
  virtual bool should_close() const = 0;
  virtual bool wants_input() const = 0;
  // How long to wait for the next input byte; zero = no timer (e.g. while the handler works).
  virtual std::chrono::milliseconds timeout() const = 0;
  virtual void on_timeout() = 0;
  // The peer closed (error empty) or the connection failed: error says how, for the log
  // ("read failed: Connection reset by peer"). The connection closes after this returns.
  virtual void on_eof(std::string_view error) = 0;
  // True while a transaction is open: a graceful shutdown waits for it to end.
  virtual bool in_transaction() const = 0;
  // Graceful shutdown reached an idle moment: queue a goodbye and ask to close.
  virtual void on_shutdown() = 0;
};

using ProtocolFactory =
    std::function<std::unique_ptr<StreamProtocol>(ConnectionContext& context)>;

}  // namespace dovetail::net
