// server_session.hpp — sans-I/O LMTP (RFC 2033) server state machine.
//
// Purpose: bytes in -> replies out and Handler calls; no sockets, no clocks, no threads.
// The net layer: start(); loop { feed(read bytes); write(take_output()); } and closes after
// should_close() once the output is flushed. It calls on_timeout() when its idle/DATA timer
// fires and on_eof() when the peer went away.
// Pipelining (RFC 2920): any number of commands per feed() are handled in order; while a
// Handler call is outstanding (waiting()), input is buffered, not processed. When the handler
// completes, the session continues with the buffered input and calls the wakeup function so
// the net layer can flush output and resume reading.
// Depends on: mail, base. Error contract: never throws on input; every byte sequence yields
// replies. Lifetime/threading: one per connection, used from one thread at a time; the
// Handler must outlive it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "mail/envelope.hpp"
#include "smtp/handler.hpp"

namespace dovetail::smtp {

struct SessionConfig {
  std::string hostname;                 // "mx.test.example"
  std::string greeting = "Dovecot ready.";  // text after the hostname in the 220 line
  uint64_t max_mail_size = 64ull << 20;     // SIZE limit, 0 = none (not advertised)
  unsigned max_recipients = 10000;
  unsigned max_line_length = 4101;
  unsigned max_invalid_commands = 10;
  uint64_t spool_memory_limit = 256 * 1024;
  std::string spool_dir = "/tmp";
  bool ssl_configured = false;          // STARTTLS advertised (later issue)
  bool xclient_trusted = false;         // peer in login_trusted_networks (later issue)
  size_t max_buffered_input = 1 << 20;  // backpressure: stop reading past this while waiting
};

class ServerSession {
 public:
  ServerSession(SessionConfig config, mail::ClientInfo client, std::string session_id,
                Handler& handler);
  ~ServerSession();
  ServerSession(const ServerSession&) = delete;
  ServerSession& operator=(const ServerSession&) = delete;

  void start();                         // queues the 220 greeting
  void feed(std::string_view bytes);    // consume input
  // Peer closed (error empty) or the connection failed (error says how, e.g. "read failed:
  // Connection reset by peer"): abort the transaction, discard the spool.
  void on_eof(std::string_view error = {});
  void on_timeout();                    // 421 4.4.2 <host> Disconnected for inactivity + close
  // Why the session ended, as Dovecot words its "Disconnect from <ip>: ..." log line:
  // "Logged out (state=READY)", "Connection closed (unfinished DATA command) (state=DATA)".
  // The state is the one the session was in when it ended. Before it ended: "Connection
  // closed" and the current state (the net layer went away without telling the session).
  std::string disconnect_reason() const;
  // The net layer ends the session for its own reason (a shutdown): recorded, with the
  // current state, unless the session had already ended.
  void record_end(std::string_view why);

  std::string take_output();            // everything queued since the last call (batched)
  bool has_output() const;
  bool should_close() const;            // QUIT/421 sent: flush then close
  bool waiting() const;                 // a Handler call is outstanding
  bool wants_input() const;             // false while waiting with a full input buffer
  bool in_data() const;                 // inside DATA/BDAT: use the DATA timeout
  void set_wakeup(std::function<void()> fn);

  const std::string& session_id() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// 22 characters of base64 over 16 random bytes, like Dovecot's session ids.
std::string make_session_id();

}  // namespace dovetail::smtp
