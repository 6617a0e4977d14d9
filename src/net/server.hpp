// server.hpp — the event-driven runtime: listeners, connections, limits, signals.
//
// Purpose: N event threads (one io_context each, default one per core); accepted
// connections are spread round-robin, each stays on its thread for life (no thread per
// connection, no locks on the data path). A BlockingPool runs disk and lookup work.
// Connections hold no read buffer while idle (they wait for readability and read into a
// per-thread buffer), which keeps ten thousand idle clients cheap.
// Depends on: base (Asio behind pimpl). Error contract: listen() returns a kConfig/kTemporary
// error naming the address (e.g. "127.0.0.1:2424: Address already in use"); nothing on the
// connection path throws. Threading: listen()/set_*() before run(); shutdown() and
// set_connection_limit() are thread-safe.
// Security: unix sockets are chmod/chown'ed right after bind; an existing path is only
// replaced when it is a socket nobody answers on (ECONNREFUSED).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "net/blocking_pool.hpp"
#include "net/listen_spec.hpp"
#include "net/stream_protocol.hpp"

namespace dovetail::net {

namespace detail {
struct ServerState;
}

struct ServerOptions {
  unsigned io_threads = 0;         // 0 = std::thread::hardware_concurrency()
  unsigned blocking_threads = 64;  // fsyncs in flight at once
};

class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds every spec; on error nothing stays bound. Returns the specs with real ports.
  [[nodiscard]] base::Result<std::vector<ListenSpec>> listen(const std::vector<ListenSpec>& specs);

  void set_protocol_factory(ProtocolFactory factory);
  // At most `limit` open connections (0 = unlimited); beyond it, `reply` (a full line with
  // CRLF) is sent and the connection closed.
  void set_connection_limit(size_t limit, std::string reply);
  // SIGTERM/SIGINT -> shutdown(); SIGHUP -> on_hup (run on an event thread).
  void handle_signals(std::function<void()> on_hup);

  BlockingPool& blocking_pool();
  size_t connections() const;

  // Runs until shutdown() finished draining. Returns 0.
  int run();
  // Stop accepting; idle connections get on_shutdown(); open transactions finish first.
  void shutdown();

 private:
  std::shared_ptr<detail::ServerState> impl_;
};

}  // namespace dovetail::net
