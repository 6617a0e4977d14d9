#include "lmtpd/lmtp_connection.hpp"

#include <unistd.h>

#include <exception>
#include <optional>

#include "base/log.hpp"
#include "lmtpd/rawlog.hpp"
#include "lmtpd/reply_map.hpp"
#include "smtp/server_session.hpp"

namespace dovetail::lmtpd {
namespace {

smtp::SessionConfig session_config(const config::Settings& s, const std::string& hostname,
                                   const std::string& spool_dir) {
  smtp::SessionConfig c;
  c.hostname = hostname;
  c.greeting = s.login_greeting;
  c.max_mail_size = s.lmtp_max_mail_size;
  c.max_recipients = s.lmtp_max_recipients;
  c.max_line_length = s.lmtp_max_line_length;
  c.max_invalid_commands = s.lmtp_max_invalid_commands;
  c.spool_memory_limit = s.lmtp_spool_memory_limit;
  c.spool_dir = !spool_dir.empty() ? spool_dir : s.mail_temp_dir.empty() ? "/tmp" : s.mail_temp_dir;
  return c;
}

mail::ClientInfo client_info(const net::PeerInfo& p) {
  mail::ClientInfo c;
  c.remote_ip = p.remote_ip;
  c.remote_port = p.remote_port;
  c.local_ip = p.local_ip;
  c.local_port = p.local_port;
  c.unix_socket = p.unix_socket;
  return c;
}

// Read once: the daemon never forks a process that keeps serving connections.
const std::string& log_prefix() {
  static const std::string prefix = "lmtp(" + std::to_string(::getpid()) + "): ";
  return prefix;
}

class LmtpConnection final : public net::StreamProtocol, public smtp::Handler {
 public:
  LmtpConnection(net::ConnectionContext& ctx, ConnectionDeps deps)
      : ctx_(ctx),
        deps_(std::move(deps)),
        session_(session_config(*deps_.settings, deps_.hostname, deps_.spool_dir), client_info(ctx.peer()),
                 smtp::make_session_id(), *this) {
    if (!deps_.settings->lmtp_rawlog_dir.empty())
      rawlog_ = Rawlog::open(deps_.settings->lmtp_rawlog_dir, session_.session_id());
    session_.set_wakeup([this] { ctx_.wakeup(); });
    base::log::info(log_prefix(), "Connect from " + peer_name());
  }

  ~LmtpConnection() override {
    // Dovecot's wording, reason and state included: log watchers written for it keep working.
    base::log::info(log_prefix(), "Disconnect from " + peer_name() + ": " +
                                      session_.disconnect_reason());
  }

  // --- net::StreamProtocol
  void start() override { session_.start(); }
  void feed(std::string_view bytes) override {
    if (rawlog_) rawlog_->in(bytes);
    session_.feed(bytes);
  }
  std::string take_output() override {
    std::string out = session_.take_output();
    if (!extra_.empty()) out += std::exchange(extra_, {});
    if (rawlog_ && !out.empty()) rawlog_->out(out);
    return out;
  }
  bool should_close() const override { return closing_ || session_.should_close(); }
  bool wants_input() const override { return !closing_ && session_.wants_input(); }
  std::chrono::milliseconds timeout() const override {
    if (busy_ || session_.waiting()) return std::chrono::milliseconds(0);
    return session_.in_data() ? deps_.settings->lmtp_data_timeout : deps_.settings->lmtp_idle_timeout;
  }
  void on_timeout() override { session_.on_timeout(); }
  void on_eof(std::string_view error) override {
    // The backend may still read the spool: abort only once it is done with it.
    if (busy_)
      eof_pending_ = std::string(error);
    else
      session_.on_eof(error);
  }
  bool in_transaction() const override { return in_txn_ || busy_ || session_.in_data(); }
  void on_shutdown() override {
    extra_ += shutting_down_line(deps_.hostname);
    closing_ = true;
    session_.record_end("Shutting down");
  }

  // --- smtp::Handler
  smtp::Reply on_mail(const mail::Envelope&) override {
    in_txn_ = true;
    return {250, "2.1.0", "OK"};
  }

  void on_rcpt(const mail::Envelope& env, const mail::Recipient& rcpt,
               std::function<void(smtp::Reply)> done) override {
    // An in-memory userdb is answered here: the round trip to the pool and back (two thread
    // wake-ups, about a quarter of the server's syscalls per message) buys nothing then.
    deliver::RecipientCheck now;
    try {
      now = deps_.backend->check_recipient_now(env, rcpt);
    } catch (const std::exception& e) {
      base::log::error(log_prefix(), std::string("bug: RCPT lookup threw: ") + e.what());
      now = {.answered = true, .refusal = deliver::lookup_failed()};
    }
    if (now.answered) {
      done(rcpt_reply(rcpt, now.refusal));
      return;
    }
    busy_ = true;
    auto handle = ctx_.handle();
    // The session does not touch the envelope while a handler call is outstanding, and the
    // handle keeps the session alive: no copy (a copy per RCPT would be quadratic).
    const mail::Envelope* envelope = &env;
    deps_.pool->submit([this, handle, envelope, rcpt, done = std::move(done)]() mutable {
      std::optional<deliver::Outcome> refusal;
      try {
        refusal = deps_.backend->check_recipient(*envelope, rcpt);
      } catch (const std::exception& e) {
        base::log::error(log_prefix(), std::string("bug: RCPT lookup threw: ") + e.what());
        refusal = deliver::lookup_failed();
      } catch (...) {
        base::log::error(log_prefix(), "bug: RCPT lookup threw");
        refusal = deliver::lookup_failed();
      }
      handle.post([this, rcpt = std::move(rcpt), refusal = std::move(refusal), done = std::move(done)] {
        busy_ = false;
        done(rcpt_reply(rcpt, refusal));
        after_backend();
      });
    });
  }

  void on_data(const mail::Envelope& env, mail::Spool& spool,
               std::function<void(std::vector<smtp::Reply>)> done) override {
    busy_ = true;
    if (deliver_in_flight(env, spool, done)) return;
    auto handle = ctx_.handle();
    const mail::Spool* body = &spool;
    const mail::Envelope* envelope = &env;
    deps_.pool->submit([this, handle, envelope, body, done = std::move(done)]() mutable {
      const mail::Envelope& txn = *envelope;
      std::vector<deliver::Outcome> outcomes;
      try {
        outcomes = deps_.backend->deliver(txn, *body);
      } catch (const std::exception& e) {
        base::log::error(log_prefix(), std::string("bug: delivery threw: ") + e.what());
        outcomes.clear();
      } catch (...) {
        base::log::error(log_prefix(), "bug: delivery threw");
        outcomes.clear();
      }
      std::vector<smtp::Reply> replies = replies_for(txn, outcomes);
      handle.post([this, replies = std::move(replies), done = std::move(done)]() mutable {
        busy_ = false;
        done(std::move(replies));
        after_backend();
      });
    });
  }

  void on_reset() override {
    in_txn_ = false;
    if (deps_.backend) deps_.backend->reset();
  }

 private:
  // The save runs in the privileged writer: start it here and answer when its reply is
  // readable, on this thread — no pool thread sits waiting for the writer's fsyncs.
  bool deliver_in_flight(const mail::Envelope& env, mail::Spool& spool,
                         std::function<void(std::vector<smtp::Reply>)>& done) {
    std::shared_ptr<deliver::DeliveryInFlight> flight;
    try {
      flight = deps_.backend->deliver_begin(env, spool);
    } catch (const std::exception& e) {
      base::log::error(log_prefix(), std::string("bug: delivery threw: ") + e.what());
    }
    if (!flight) return false;
    await_flight(std::move(flight), &env, std::move(done));
    return true;
  }

  void await_flight(std::shared_ptr<deliver::DeliveryInFlight> flight, const mail::Envelope* envelope,
                    std::function<void(std::vector<smtp::Reply>)> done) {
    const int fd = flight->fd();
    ctx_.when_readable(fd, [this, flight = std::move(flight), envelope,
                            done = std::move(done)](net::Readiness readiness) mutable {
      if (readiness == net::Readiness::kWaitFailed) {
        finish_in_pool(std::move(flight), envelope, std::move(done));
        return;
      }
      auto outcomes = flight->try_finish();
      if (!outcomes) {  // woken before the writer answered (readiness can be stale)
        await_flight(std::move(flight), envelope, std::move(done));
        return;
      }
      busy_ = false;
      done(replies_for(*envelope, *outcomes));
      after_backend();
    });
  }

  // The event loop cannot wait on the writer's answer: a pool thread waits for it instead,
  // never this one.
  void finish_in_pool(std::shared_ptr<deliver::DeliveryInFlight> flight, const mail::Envelope* envelope,
                      std::function<void(std::vector<smtp::Reply>)> done) {
    auto handle = ctx_.handle();
    deps_.pool->submit([this, handle, flight = std::move(flight), envelope, done = std::move(done)]() mutable {
      std::vector<deliver::Outcome> outcomes = flight->finish();
      handle.post([this, outcomes = std::move(outcomes), envelope, done = std::move(done)]() mutable {
        busy_ = false;
        done(replies_for(*envelope, outcomes));
        after_backend();
      });
    });
  }

  static std::vector<smtp::Reply> replies_for(const mail::Envelope& txn, const std::vector<deliver::Outcome>& outcomes) {
    std::vector<smtp::Reply> replies;
    replies.reserve(txn.recipients.size());
    for (size_t i = 0; i < txn.recipients.size(); ++i) {
      // A short answer from the engine is a bug; never claim success for a missing outcome.
      deliver::Outcome o = i < outcomes.size() ? outcomes[i] : deliver::Outcome(deliver::TempFail{});
      replies.push_back(data_reply(txn.recipients[i], o));
    }
    return replies;
  }

  void after_backend() {
    if (eof_pending_) {
      session_.on_eof(*eof_pending_);
      eof_pending_.reset();
    }
    ctx_.wakeup();
  }

  std::string peer_name() const {
    const auto& p = ctx_.peer();
    return p.unix_socket ? std::string("local") : p.remote_ip;
  }

  net::ConnectionContext& ctx_;
  ConnectionDeps deps_;
  smtp::ServerSession session_;
  std::unique_ptr<Rawlog> rawlog_;
  std::string extra_;
  bool in_txn_ = false;
  bool busy_ = false;
  std::optional<std::string> eof_pending_;  // the peer left while the backend worked
  bool closing_ = false;
};

}  // namespace

std::unique_ptr<net::StreamProtocol> make_lmtp_connection(net::ConnectionContext& context,
                                                          ConnectionDeps deps) {
  return std::make_unique<LmtpConnection>(context, std::move(deps));
}

}  // namespace dovetail::lmtpd
