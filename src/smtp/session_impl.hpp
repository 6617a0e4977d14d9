// session_impl.hpp — ServerSession's private state, shared by server_session.cpp (input
// loop, replies, handler plumbing) and the cmd_*.cpp files (one SMTP command each).
//
// Not a public header: only files of this room include it.
// Depends on: mail, smtp. Threading: one thread at a time (see server_session.hpp).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "mail/envelope.hpp"
#include "mail/spool.hpp"
#include "smtp/body_writer.hpp"
#include "smtp/data_reader.hpp"
#include "smtp/handler.hpp"
#include "smtp/line_reader.hpp"
#include "smtp/server_session.hpp"

namespace dovetail::smtp {

struct ServerSession::Impl {
  enum class Mode { kCommand, kData, kBdat };
  // What happens to the octets of the BDAT chunk being read.
  enum class ChunkFate { kStore, kDiscard };

  Impl(SessionConfig c, mail::ClientInfo ci, std::string sid, Handler& h);

  // --- configuration and identity
  SessionConfig cfg;
  mail::ClientInfo client;
  std::string session_id;
  Handler& handler;
  std::function<void()> wakeup;
  std::shared_ptr<Impl*> self;  // completions hold a weak_ptr to it: the session may be gone

  // --- I/O
  std::string in;
  size_t in_pos = 0;
  std::string out;
  Mode mode = Mode::kCommand;
  bool closed = false;      // QUIT / 421 queued or peer gone: no more input is processed
  bool waiting = false;     // a Handler call is outstanding
  bool in_process = false;  // inside process(): a synchronous completion must not recurse
  uint64_t call_token = 0;  // identifies the outstanding Handler call
  LineReader lines;
  unsigned bad_commands = 0;
  bool greeted = false;     // a valid LHLO was answered (Dovecot's state leaves GREETING)
  std::string end_reason;   // set once, when the session ends: disconnect_reason()

  // --- transaction (RFC 5321 3.3)
  bool mail_given = false;
  mail::Envelope env;
  unsigned transactions = 0;  // accepted MAIL commands in this session (the T of :T<n>)
  unsigned rcpt_seq = 0;      // RCPT commands that reached the handler (the R of :R<n>)
  mail::Recipient pending_rcpt;
  bool chunk_failed = false;  // Dovecot: after a failed BDAT, DATA/BDAT need RSET first
  bool bdat_started = false;
  std::unique_ptr<mail::Spool> spool;
  // The spool of a finished transaction, freed only once no Handler frame can still hold a
  // reference to it (a synchronous `done` inside on_data returns into the handler).
  std::unique_ptr<mail::Spool> retired_spool;
  BodyWriter body;
  DataReader data_reader;
  ChunkDecoder chunk_decoder;
  uint64_t chunk_remaining = 0;
  uint64_t chunk_size = 0;
  bool chunk_last = false;
  ChunkFate chunk_fate = ChunkFate::kDiscard;
  Reply chunk_refusal;  // the reply of a discarded chunk; code 0 = already answered

  // --- plumbing (server_session.cpp)
  void process();
  void handle_line(std::string_view line);
  void reply(int code, std::string_view enhanced, std::string_view text);
  void reply(const Reply& r);
  void bad_command(int code, std::string_view enhanced, std::string_view text);
  // Queues the last reply and ends the session; `why` is the log's reason (end()).
  void close_with(int code, std::string_view enhanced, std::string_view text, std::string_view why);
  // Records why the session ended and in which of Dovecot's states, before the transaction
  // is reset; the first call wins.
  void end(std::string_view why);
  const char* state_name() const;  // Dovecot's name of the current protocol state
  std::string unfinished() const;  // " (unfinished DATA command)" while a body is cut off
  void reset_transaction();  // ends the transaction; calls Handler::on_reset if one was open
  void begin_body();         // creates the spool and the writer for DATA/BDAT
  void finish_body();        // body complete: size/errors checked, then Handler::on_data
  void per_recipient(const Reply& r);  // the same reply once per accepted recipient
  std::string recipient_id(unsigned seq) const;
  void finish_chunk();
  void completed();  // a Handler call finished: continue with buffered input

  // --- commands (cmd_<verb>.cpp)
  void cmd_lhlo(std::string_view args);
  void cmd_mail(std::string_view args);
  void cmd_rcpt(std::string_view args);
  void cmd_data(std::string_view args);
  void cmd_bdat(std::string_view args);
  void cmd_rset(std::string_view args);
  void cmd_noop(std::string_view args);
  void cmd_vrfy(std::string_view args);
  void cmd_quit(std::string_view args);
  void cmd_starttls(std::string_view args);
  void cmd_xclient(std::string_view args);

  // shared by DATA and BDAT: the state checks in Dovecot's order; a refusal or nullopt
  std::optional<Reply> data_command_refusal(bool is_bdat) const;
};

// "string" parameter of NOOP/VRFY (RFC 5321 4.1.2 String = Atom / Quoted-string).
bool parse_smtp_string(std::string_view in, std::string& out, std::string& error);

}  // namespace dovetail::smtp
