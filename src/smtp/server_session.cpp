// server_session.cpp — the input loop, reply queue and Handler plumbing of ServerSession.
// The commands themselves live in cmd_<verb>.cpp.
#include "smtp/server_session.hpp"

#include <algorithm>
#include <charconv>
#include <string>

#include "smtp/command_line.hpp"
#include "smtp/session_impl.hpp"

namespace dovetail::smtp {

namespace {
// A reply line must stay one line whatever a handler put into its text. Appended whole, then
// mended in place: every reply passes here (11 per message with 10 recipients).
void append_sanitized(std::string& out, std::string_view text) {
  const size_t from = out.size();
  out.append(text);
  for (size_t i = from; i < out.size(); ++i)
    if (out[i] == '\r' || out[i] == '\n') out[i] = ' ';
}

void append_reply(std::string& out, int code, std::string_view enhanced, std::string_view text) {
  char digits[12];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, code);
  out.append(digits, end);
  out.push_back(' ');
  if (!enhanced.empty()) {
    append_sanitized(out, enhanced);
    out.push_back(' ');
  }
  append_sanitized(out, text);
  out += "\r\n";
}
}  // namespace

std::string Reply::render() const {
  std::string s;
  append_reply(s, code, enhanced, text);
  return s;
}

ServerSession::Impl::Impl(SessionConfig c, mail::ClientInfo ci, std::string sid, Handler& h)
    : cfg(std::move(c)),
      client(std::move(ci)),
      session_id(std::move(sid)),
      handler(h),
      self(std::make_shared<Impl*>(this)),
      lines(cfg.max_line_length) {}

void ServerSession::Impl::reply(int code, std::string_view enhanced, std::string_view text) {
  append_reply(out, code, enhanced, text);
}

void ServerSession::Impl::reply(const Reply& r) { append_reply(out, r.code, r.enhanced, r.text); }

// Dovecot counts consecutive commands it could not even parse or does not know; the one
// past the limit is answered 421 and the connection closed (COMPAT.md item 4).
void ServerSession::Impl::bad_command(int code, std::string_view enhanced, std::string_view text) {
  if (++bad_commands > cfg.max_invalid_commands) {
    close_with(421, "4.7.0", cfg.hostname + " Too many invalid commands.", "Too many invalid commands.");
    return;
  }
  reply(code, enhanced, text);
}

void ServerSession::Impl::close_with(int code, std::string_view enhanced, std::string_view text,
                                     std::string_view why) {
  reply(code, enhanced, text);
  end(why);
  closed = true;
  reset_transaction();
}

void ServerSession::Impl::end(std::string_view why) {
  if (!end_reason.empty()) return;
  end_reason = std::string(why) + " (state=" + state_name() + ")";
}

// Dovecot names a body cut off in its log line; between BDAT chunks nothing is unfinished.
std::string ServerSession::Impl::unfinished() const {
  if (mode == Mode::kData) return " (unfinished DATA command)";
  if (mode == Mode::kBdat) return " (unfinished BDAT command)";
  return {};
}

// smtp_server_state_names of Dovecot's lib-smtp, for the states an LMTP session passes.
const char* ServerSession::Impl::state_name() const {
  if (mode != Mode::kCommand || bdat_started) return "DATA";
  if (mail_given) return rcpt_seq > 0 || !env.recipients.empty() ? "RCPT TO" : "MAIL FROM";
  return greeted ? "READY" : "GREETING";
}

void ServerSession::Impl::reset_transaction() {
  bool had = mail_given;
  mail_given = false;
  env = mail::Envelope{};
  rcpt_seq = 0;
  bdat_started = false;
  if (spool) retired_spool = std::move(spool);
  if (mode != Mode::kCommand) mode = Mode::kCommand;
  if (had) handler.on_reset();
}

std::string ServerSession::Impl::recipient_id(unsigned seq) const {
  // Dovecot lmtp: the first RCPT of a transaction carries the transaction id, the n-th
  // (rejected ones counted) "<transaction id>:R<n>".
  if (seq <= 1) return env.transaction_id;
  return env.transaction_id + ":R" + std::to_string(seq);
}

void ServerSession::Impl::per_recipient(const Reply& r) {
  for (const auto& rc : env.recipients) {
    Reply each = r;
    each.text = "<" + rc.given + "> " + r.text;
    reply(each);
  }
}

void ServerSession::Impl::begin_body() {
  if (!spool) spool = std::make_unique<mail::Spool>(cfg.spool_memory_limit, cfg.spool_dir);
  body.start(spool.get(), cfg.max_mail_size);
}

void ServerSession::Impl::finish_body() {
  mode = Mode::kCommand;
  body.finish();
  if (body.too_big()) {
    per_recipient(Reply{552, "5.3.4", "Message size exceeds fixed maximum message size"});
    reset_transaction();
    return;
  }
  if (body.failed()) {
    per_recipient(Reply{451, "4.3.0", "Temporary internal error while receiving the message"});
    reset_transaction();
    return;
  }
  waiting = true;
  uint64_t token = ++call_token;
  std::weak_ptr<Impl*> weak = self;
  mail::Spool& body_spool = *spool;
  handler.on_data(env, body_spool, [weak, token](std::vector<Reply> replies) {
    auto p = weak.lock();
    if (!p) return;
    Impl* s = *p;
    if (!s->waiting || token != s->call_token) return;  // "exactly once": ignore repeats
    s->waiting = false;
    if (!s->closed) {
      for (size_t i = 0; i < s->env.recipients.size(); ++i) {
        if (i < replies.size()) {
          s->reply(replies[i]);
        } else {  // a handler bug must still not leave a recipient unanswered
          s->reply(451, "4.3.0", "<" + s->env.recipients[i].given + "> Internal error occurred.");
        }
      }
    }
    s->reset_transaction();
    s->completed();
  });
}

void ServerSession::Impl::completed() {
  if (in_process) return;  // synchronous completion: the running loop continues
  process();
  if (wakeup) wakeup();
}

void ServerSession::Impl::finish_chunk() {
  if (chunk_fate == ChunkFate::kDiscard) {
    mode = Mode::kCommand;
    chunk_failed = true;
    if (chunk_refusal.code != 0) reply(chunk_refusal);  // 0: answered with the command line
    return;
  }
  if (chunk_last) {
    chunk_decoder.end(body);
    finish_body();
    return;
  }
  mode = Mode::kCommand;
  if (body.too_big()) {
    // RFC 3030 4: a refused chunk fails the transaction; Dovecot then wants RSET.
    chunk_failed = true;
    spool->clear();
    reply(552, "5.3.4", "Message size exceeds fixed maximum message size");
    return;
  }
  reply(250, "2.0.0", "Added " + std::to_string(chunk_size) + " octets");
}

void ServerSession::Impl::process() {
  in_process = true;
  retired_spool.reset();  // no handler call is on the stack here
  bool more = true;
  while (more && !closed && !waiting && in_pos < in.size()) {
    std::string_view buf(in);
    switch (mode) {
      case Mode::kCommand: {
        auto ev = lines.next(buf, in_pos);
        if (ev.kind == LineReader::Kind::kNeedMore) {
          more = false;
        } else if (ev.kind == LineReader::Kind::kTooLong) {
          bad_command(500, "5.5.2", "Line too long");
        } else {
          handle_line(ev.line);
        }
        break;
      }
      case Mode::kData: {
        in_pos += data_reader.consume(buf.substr(in_pos), body);
        if (data_reader.done()) finish_body();
        break;
      }
      case Mode::kBdat: {
        uint64_t avail = in.size() - in_pos;
        size_t take = static_cast<size_t>(std::min<uint64_t>(avail, chunk_remaining));
        if (chunk_fate == ChunkFate::kStore) chunk_decoder.decode(buf.substr(in_pos, take), body);
        in_pos += take;
        chunk_remaining -= take;
        if (chunk_remaining == 0) finish_chunk();
        break;
      }
    }
  }
  if (closed) {
    in.clear();
    in_pos = 0;
  } else if (in_pos == in.size()) {
    in.clear();
    in_pos = 0;
  } else if (in_pos > 0) {
    in.erase(0, in_pos);
    in_pos = 0;
  }
  in_process = false;
}

void ServerSession::Impl::handle_line(std::string_view line) {
  auto cmd = parse_command_line(line);
  if (!cmd) {
    bad_command(500, "5.5.2", "Invalid command syntax");
    return;
  }
  using Fn = void (Impl::*)(std::string_view);
  struct Entry {
    const char* verb;
    Fn fn;
  };
  static const Entry kCommands[] = {
      {"LHLO", &Impl::cmd_lhlo},         {"MAIL", &Impl::cmd_mail}, {"RCPT", &Impl::cmd_rcpt},
      {"DATA", &Impl::cmd_data},         {"BDAT", &Impl::cmd_bdat}, {"RSET", &Impl::cmd_rset},
      {"NOOP", &Impl::cmd_noop},         {"VRFY", &Impl::cmd_vrfy}, {"QUIT", &Impl::cmd_quit},
      {"STARTTLS", &Impl::cmd_starttls}, {"XCLIENT", &Impl::cmd_xclient},
  };
  for (const auto& e : kCommands) {
    if (cmd->verb == e.verb) {
      bad_commands = 0;
      (this->*e.fn)(cmd->args);
      return;
    }
  }
  // Dovecot's SMTP library knows AUTH but LMTP never enables it: a known, unsupported command.
  if (cmd->verb == "AUTH") {
    bad_commands = 0;
    reply(502, "5.5.1", "Unsupported command");
    return;
  }
  bad_command(500, "5.5.1", "Unknown command");
}

// ---------------------------------------------------------------- public face

ServerSession::ServerSession(SessionConfig config, mail::ClientInfo client, std::string session_id,
                             Handler& handler)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(client), std::move(session_id), handler)) {}

ServerSession::~ServerSession() = default;

void ServerSession::start() {
  impl_->reply(220, "", impl_->cfg.hostname + " " + impl_->cfg.greeting);
}

void ServerSession::feed(std::string_view bytes) {
  Impl& s = *impl_;
  if (s.closed || bytes.empty()) return;
  s.in.append(bytes);
  if (!s.waiting) s.process();
}

void ServerSession::on_eof(std::string_view error) {
  Impl& s = *impl_;
  if (s.closed) return;
  std::string why = "Connection closed";
  if (!error.empty()) why += ": " + std::string(error);
  s.end(why + s.unfinished());
  s.closed = true;
  s.in.clear();
  s.in_pos = 0;
  // A half-received body is dropped: nothing is delivered (COMPAT.md item 13). While
  // on_data runs, the handler owns the outcome; the spool stays until it completes.
  if (!s.waiting) s.reset_transaction();
}

void ServerSession::on_timeout() {
  Impl& s = *impl_;
  if (s.closed) return;
  s.reply(421, "4.4.2", s.cfg.hostname + " Disconnected for inactivity");
  s.end("Disconnected for inactivity" + s.unfinished());
  s.closed = true;
  if (!s.waiting) s.reset_transaction();
}

std::string ServerSession::disconnect_reason() const {
  const Impl& s = *impl_;
  if (!s.end_reason.empty()) return s.end_reason;
  return std::string("Connection closed (state=") + s.state_name() + ")";
}

void ServerSession::record_end(std::string_view why) { impl_->end(why); }

std::string ServerSession::take_output() {
  std::string o;
  o.swap(impl_->out);
  return o;
}

bool ServerSession::has_output() const { return !impl_->out.empty(); }
bool ServerSession::should_close() const { return impl_->closed; }
bool ServerSession::waiting() const { return impl_->waiting; }
bool ServerSession::wants_input() const {
  const Impl& s = *impl_;
  if (s.closed) return false;
  return !(s.waiting && s.in.size() - s.in_pos >= s.cfg.max_buffered_input);
}
bool ServerSession::in_data() const { return impl_->mode != Impl::Mode::kCommand; }
void ServerSession::set_wakeup(std::function<void()> fn) { impl_->wakeup = std::move(fn); }
const std::string& ServerSession::session_id() const { return impl_->session_id; }

}  // namespace dovetail::smtp
