// engine.hpp — the delivery engine shared by LMTP (lmtpd) and the LDA (`dovetail deliver`).
//
// Purpose: two synchronous calls per transaction.
//   resolve()  at RCPT: address → detail + lookup key → (lmtp_proxy: passdb) → userdb →
//              uid/gid checks → mail location → per-user concurrency slot. Answers a
//              ResolvedRecipient or the refusal (550 5.1.1 unknown user, 451 4.3.0 temporary,
//              451 4.3.0 too many concurrent deliveries, 451 4.3.0 for a recipient to proxy:
//              proxying is not implemented yet, and such mail must never be stored here).
//   deliver()  after DATA: trace headers, mailbox choice (INBOX or the detail folder),
//              dedupe of repeated recipients, Maildir save (hard links for several
//              recipients), one Outcome per recipient, one log line per delivery.
// The LDA uses the same two calls: it builds an Envelope from argv (-f, -r/-a), resolves
// with ResolveOptions::user (-d) and may set ResolvedRecipient::mailbox (-m) before deliver().
// Pipeline seams left for later issues, visible in engine.cpp as named steps (not stubbed):
// the route decision per recipient (local vs proxy), the quota check at RCPT and at save,
// and the filter (Sieve) step before store.
// Depends on: storage, userdb, mail, base, config/settings.hpp (decision 0002).
// Error contract: never throws by design and never returns a bare error — every path ends in
// an Outcome; anything not classified is a temporary failure (STYLE habit 1). The client sees
// Dovecot's wording; the real reason goes to the error log with the user's log prefix.
// Threading: an Engine is immutable after construction and thread-safe; both calls block
// (userdb, fsync) and must run on worker threads, never on an event thread — except
// resolve_now() and deliver_begin(), made for event threads. A
// ResolvedRecipient belongs to one transaction; destroying it releases its concurrency slot.
// Security: resolve() is where first_valid_uid & co. are enforced (deliver/mail_ids.hpp);
// the detail reaches storage only as a folder *name*, which storage validates (hostile
// names go to INBOX and can never leave the user's mail root).
#pragma once

#include <ctime>
#include <functional>
#include <optional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/log.hpp"
#include "base/result.hpp"
#include "config/settings.hpp"
#include "deliver/concurrency_limiter.hpp"
#include "deliver/outcome.hpp"
#include "deliver/recipient_key.hpp"
#include "mail/envelope.hpp"
#include "mail/spool.hpp"
#include "mail/trace_headers.hpp"
#include "storage/fs.hpp"
#include "storage/maildir_writer.hpp"
#include "userdb/user.hpp"

namespace dovetail::deliver {

// One accepted recipient of the current transaction. Move-only (it holds the slot).
struct ResolvedRecipient {
  mail::Recipient rcpt;          // as the session accepted it (given, address, orcpt, id)
  RecipientKey key;              // username, detail, lookup key
  userdb::User user;
  storage::UserTarget target;    // uid/gid checked, mail location expanded
  std::string mailbox;           // requested mailbox: the detail (lmtp_save_to_detail_mailbox)
                                 // or "" = INBOX; the LDA's -m replaces it
  ConcurrencyLimiter::Token slot;  // released when this value is destroyed
};

using Resolution = std::variant<ResolvedRecipient, TempFail, PermFail>;

struct ResolveOptions {
  // LDA -d (and the privileged writer): look this user up as is — no detail split, no
  // auth_username_format, no lmtp_user_concurrency_limit slot. "" = the LMTP RCPT path.
  std::string user;
};

// A save started by EngineDeps::store_begin that completes in another process (the
// privileged writer): its result can be read without blocking once fd() is readable.
// fd() stays open, as the same file, for as long as the process runs (a writer channel):
// an event loop may keep it registered between saves.
class StoreInFlight {
 public:
  virtual ~StoreInFlight() = default;
  virtual int fd() const = 0;
  // One result per target. Blocks only when called before fd() is readable.
  virtual std::vector<storage::SaveResult> finish() = 0;
  // finish() if the result has arrived, nullopt (and nothing consumed) if not: a wake-up
  // by fd()'s readiness may be stale. Never blocks.
  virtual std::optional<std::vector<storage::SaveResult>> try_finish() = 0;
};

// Dependencies the daemon (or a test) supplies. Empty members get the real default.
struct EngineDeps {
  // userdb lookup by key; kNotFound = unknown user, any other error = temporary.
  std::function<base::Result<userdb::User>(std::string_view key)> lookup_user;
  // The same answer when it needs no I/O (UserDb::lookup_user_now); empty = never.
  std::function<std::optional<base::Result<userdb::User>>(std::string_view key)> lookup_user_now;
  // passdb lookup by key, asked only with lmtp_proxy = yes (the route decision). Empty then:
  // every recipient is deferred, since nothing can tell that it is not proxied.
  std::function<base::Result<userdb::PassdbResult>(std::string_view key)> lookup_pass;
  // Shared by every engine of the process so a config reload keeps the counts.
  std::shared_ptr<ConcurrencyLimiter> limiter;
  storage::Fs* fs = nullptr;                                   // default storage::real_fs()
  std::function<std::time_t()> clock;                          // default std::time()
  std::function<void(base::log::Level, std::string_view prefix, std::string_view message)> log;
  // The lines of one transaction's outcome (one per recipient) at once; empty = `log` line by
  // line. Defaults to base::log::write_lines (one write(2) for all) when `log` is defaulted.
  std::function<void(std::span<const base::log::Line>)> log_lines;
  std::string service = "lmtp";                                // %s in mail_log_prefix
  // Where saves go: empty = this process's storage::MaildirWriter. In multi-uid mode the
  // privileged writer's client (privsep/remote_store.hpp) goes here; `lookup_keys[i]` is the
  // userdb key of targets[i], by which the writer re-resolves the user itself.
  using StoreFn = std::function<std::vector<storage::SaveResult>(
      const storage::Body& body, std::string_view headers, std::span<const storage::SaveTarget> targets,
      std::span<const std::string> lookup_keys)>;
  StoreFn store;
  // Optional beside `store`: starts the same save without waiting for it (no thread blocks
  // while the writer fsyncs). nullptr = cannot start now; the caller uses deliver() instead.
  using StoreBeginFn = std::function<std::unique_ptr<StoreInFlight>(
      const storage::Body& body, std::string_view headers, std::span<const storage::SaveTarget> targets,
      std::span<const std::string> lookup_keys)>;
  StoreBeginFn store_begin;
};

class DeliveryInFlight;

class Engine {
 public:
  // Fails (kConfig) for settings the engine cannot act on: lmtp_hdr_delivery_address,
  // mail_fsync; or a missing lookup_user.
  [[nodiscard]] static base::Result<std::unique_ptr<Engine>> create(config::SettingsPtr settings,
                                                                    EngineDeps deps);

  [[nodiscard]] Resolution resolve(const mail::Envelope& env, const mail::Recipient& rcpt,
                                   const ResolveOptions& options = {}) const;
  // resolve() for the LMTP RCPT path when it can be answered without blocking (an in-memory
  // userdb, numeric ids, no lmtp_proxy passdb step): safe on an event thread. nullopt = use
  // resolve() on a worker thread; nothing was counted or logged then.
  [[nodiscard]] std::optional<Resolution> resolve_now(const mail::Envelope& env, const mail::Recipient& rcpt,
                                                      const ResolveOptions& options = {}) const;

  // One Outcome per element of `recipients`, in order. `recipients` are the transaction's
  // local recipients in RCPT order (their count decides Delivered-To and `for <...>`).
  [[nodiscard]] std::vector<Outcome> deliver(const mail::Envelope& env, const mail::Spool& spool,
                                             std::span<const ResolvedRecipient> recipients) const;

  // deliver() without blocking, for an event thread, when EngineDeps::store_begin is set: the
  // save is started and the caller calls finish() on the result once its fd() is readable
  // (the outcomes are then exactly deliver()'s). nullptr = use deliver() on a worker thread.
  // env, spool and recipients must stay untouched until finish() returned.
  [[nodiscard]] std::unique_ptr<DeliveryInFlight> deliver_begin(const mail::Envelope& env, const mail::Spool& spool,
                                                                std::span<const ResolvedRecipient> recipients) const;

  const config::Settings& settings() const { return *settings_; }
  const std::shared_ptr<ConcurrencyLimiter>& limiter() const { return deps_.limiter; }

 private:
  friend class DeliveryInFlight;
  // deliver() = prepare (headers, dedupe, targets) + store + complete (outcomes, log lines).
  struct Prepared;
  [[nodiscard]] std::unique_ptr<Prepared> prepare(const mail::Envelope& env, const mail::Spool& spool,
                                                  std::span<const ResolvedRecipient> recipients) const;
  [[nodiscard]] std::vector<storage::SaveResult> store(const Prepared& prepared) const;
  [[nodiscard]] std::vector<Outcome> complete(const Prepared& prepared,
                                              std::vector<storage::SaveResult> results) const;
  // resolve() (now = false, never nullopt) and resolve_now() (now = true).
  [[nodiscard]] std::optional<Resolution> resolve_impl(const mail::Envelope& env, const mail::Recipient& rcpt,
                                                       const ResolveOptions& options, bool now) const;
  Engine(config::SettingsPtr settings, EngineDeps deps, mail::DeliveryAddress delivery_address,
         storage::FsyncMode fsync);
  void log(base::log::Level level, std::string_view user, std::string_view session,
           std::string_view message) const;
  // Logs why and answers 451 4.3.0 for a recipient lmtp_proxy would send elsewhere.
  TempFail proxy_not_implemented(std::string_view user, std::string_view session,
                                 std::string_view why) const;

  config::SettingsPtr settings_;
  EngineDeps deps_;
  mail::DeliveryAddress delivery_address_;
  storage::MaildirWriter writer_;
  std::string hostname_;
  std::string pid_;
};

// A delivery whose save runs elsewhere (Engine::deliver_begin). Destroying it unfinished
// waits for the save (a started save is never abandoned half-way by this process).
class DeliveryInFlight {
 public:
  ~DeliveryInFlight();
  DeliveryInFlight(const DeliveryInFlight&) = delete;
  DeliveryInFlight& operator=(const DeliveryInFlight&) = delete;
  int fd() const;
  // One Outcome per recipient, in order, as deliver() would have answered. Call once.
  [[nodiscard]] std::vector<Outcome> finish();
  // finish() once the save's answer has arrived; nullopt while it has not (see
  // StoreInFlight::try_finish). Until it answers, call again when fd() is readable.
  [[nodiscard]] std::optional<std::vector<Outcome>> try_finish();

 private:
  friend class Engine;
  DeliveryInFlight(const Engine& engine, std::unique_ptr<Engine::Prepared> prepared,
                   std::unique_ptr<StoreInFlight> save);
  const Engine& engine_;
  std::unique_ptr<Engine::Prepared> prepared_;
  std::unique_ptr<StoreInFlight> save_;
};

}  // namespace dovetail::deliver
