#include "deliver/engine.hpp"

#include <strings.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <exception>

#include "base/var_expand.hpp"
#include "deliver/delivery_log.hpp"
#include "deliver/mail_ids.hpp"
#include "deliver/mail_user_vars.hpp"
#include "deliver/message_info.hpp"
#include "storage/mail_location.hpp"
#include "userdb/fields.hpp"
#include "userdb/user_db.hpp"

namespace dovetail::deliver {
namespace {

std::string system_hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

// Dovecot treats RCPTs as the same when the paths are equal: local part exactly, domain
// case-insensitively (COMPAT.md item 7: one copy, both replies carry the first id).
bool same_recipient(const mail::Address& a, const mail::Address& b) {
  return a.local == b.local && a.domain.size() == b.domain.size() &&
         strncasecmp(a.domain.data(), b.domain.data(), a.domain.size()) == 0;
}

// MAIL_ERRSTR_CRITICAL_MSG_STAMP: the stamp lets an admin find the log line.
std::string internal_error_text(std::time_t now) {
  struct tm tm {};
  localtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
  return std::string("Internal error occurred. Refer to server log for more information. [") +
         stamp + "]";
}

storage::MissingMailbox missing_policy(const config::Settings& s) {
  if (!s.lda_mailbox_autocreate) return storage::MissingMailbox::kUseInbox;
  return s.lda_mailbox_autosubscribe ? storage::MissingMailbox::kCreateAndSubscribe
                                     : storage::MissingMailbox::kCreate;
}

uint64_t count_lf(std::string_view s) { return std::count(s.begin(), s.end(), '\n'); }

}  // namespace

Engine::Engine(config::SettingsPtr settings, EngineDeps deps,
               mail::DeliveryAddress delivery_address, storage::FsyncMode fsync)
    : settings_(std::move(settings)),
      deps_(std::move(deps)),
      delivery_address_(delivery_address),
      writer_(fsync, deps_.fs ? *deps_.fs : storage::real_fs(),
              settings_->maildir_copy_with_hardlinks ? storage::CopyMode::kHardLink
                                                     : storage::CopyMode::kWriteEach),
      hostname_(settings_->hostname.empty() ? system_hostname() : settings_->hostname),
      pid_(std::to_string(getpid())) {
  // The daemon delivers into the same Maildirs all day; the LDA once (nothing to reuse).
  if (deps_.fs == nullptr && deps_.service == "lmtp") writer_.set_recent_dirs(storage::RecentDirs::process());
}

base::Result<std::unique_ptr<Engine>> Engine::create(config::SettingsPtr settings,
                                                     EngineDeps deps) {
  if (!settings) return base::fail(base::Error::internal("deliver::Engine: no settings"));
  if (!deps.lookup_user)
    return base::fail(base::Error::internal("deliver::Engine: no userdb lookup"));
  auto delivery_address = mail::parse_delivery_address(settings->lmtp_hdr_delivery_address);
  if (!delivery_address) return base::fail(delivery_address.error());
  auto fsync = storage::parse_fsync_mode(settings->mail_fsync);
  if (!fsync) return base::fail(fsync.error());
  if (!deps.limiter) deps.limiter = ConcurrencyLimiter::create();
  if (!deps.clock) deps.clock = [] { return std::time(nullptr); };
  if (!deps.log) {
    deps.log = base::log::write;
    if (!deps.log_lines) deps.log_lines = base::log::write_lines;
  }
  return std::unique_ptr<Engine>(
      new Engine(std::move(settings), std::move(deps), *delivery_address, *fsync));
}

void Engine::log(base::log::Level level, std::string_view user, std::string_view session,
                 std::string_view message) const {
  std::string prefix = expand_log_prefix(settings_->mail_log_prefix,
                                         {deps_.service, user, pid_, session});
  deps_.log(level, prefix, message);
}

TempFail Engine::proxy_not_implemented(std::string_view user, std::string_view session,
                                       std::string_view why) const {
  log(base::log::Level::kError, user, session,
      "lmtp_proxy = yes and " + std::string(why) +
          ", but proxying is not implemented yet: deferring (451 4.3.0) instead of delivering locally");
  return lookup_failed();
}

Resolution Engine::resolve(const mail::Envelope& env, const mail::Recipient& rcpt,
                           const ResolveOptions& options) const {
  return *resolve_impl(env, rcpt, options, false);
}

std::optional<Resolution> Engine::resolve_now(const mail::Envelope& env, const mail::Recipient& rcpt,
                                              const ResolveOptions& options) const {
  return resolve_impl(env, rcpt, options, true);
}

std::optional<Resolution> Engine::resolve_impl(const mail::Envelope& env, const mail::Recipient& rcpt,
                                               const ResolveOptions& options, bool now) const try {
  const config::Settings& s = *settings_;

  RecipientKey key;
  if (!options.user.empty()) {
    key.username = options.user;
    key.key = options.user;
  } else {
    key = recipient_key(rcpt.address, s.recipient_delimiter, s.auth_username_format);
  }

  if (!key.unknown_variable.empty()) {
    log(base::log::Level::kError, key.username, rcpt.id,
        "auth_username_format '" + s.auth_username_format + "': unknown variable %" + key.unknown_variable);
    return lookup_failed();
  }
  if (!is_safe_user_name(key.key)) {
    log(base::log::Level::kInfo, key.key, rcpt.id, "refusing unsafe user name (path step or control byte)");
    return user_unknown(key.username);
  }

  // STEP route decision (issue: LMTP proxy). With lmtp_proxy = yes a passdb answer with
  // proxy=y sends this recipient to a backend instead of the steps below. Until that issue
  // lands, such a recipient is deferred: its mailbox lives elsewhere, so storing it here
  // would be a wrong delivery, and 451 keeps it queued at the MTA. LMTP RCPTs only: the LDA
  // never proxies (as Dovecot's), the writer re-resolves what was already routed here.
  const bool route = s.lmtp_proxy && options.user.empty() && deps_.service == "lmtp";
  if (now && (route || !deps_.lookup_user_now)) return std::nullopt;  // a passdb step: blocking
  if (route) {
    if (!deps_.lookup_pass) return proxy_not_implemented(key.key, rcpt.id, "no passdb lookup is available");
    auto pass = deps_.lookup_pass(key.key);
    if (!pass && !userdb::is_unknown_user(pass.error())) {
      // Dovecot's lmtp proxy answers a failed passdb lookup the same way.
      log(base::log::Level::kError, key.key, rcpt.id,
          "lmtp_proxy: passdb lookup failed (temporary): " + pass.error().message);
      return lookup_failed();
    }
    if (pass && pass->proxy) return proxy_not_implemented(key.key, rcpt.id, "the passdb answer has proxy=y");
  }
  base::Result<userdb::User> found = base::fail(base::Error::internal("no lookup"));
  if (now) {
    auto answer = deps_.lookup_user_now(key.key);
    if (!answer) return std::nullopt;
    found = std::move(*answer);
  } else {
    found = deps_.lookup_user(key.key);
  }
  if (!found) {
    if (userdb::is_unknown_user(found.error())) return user_unknown(key.username);
    log(base::log::Level::kError, key.key, rcpt.id,
        "user lookup failed (temporary): " + found.error().message);
    return lookup_failed();
  }
  userdb::User user = std::move(*found);
  if (user.name.empty()) user.name = key.key;
  if (route && user.extra.contains("proxy"))
    return proxy_not_implemented(user.name, rcpt.id, "the userdb answer has proxy");
  if (!is_safe_user_name(user.name)) {  // a userdb `user=` rename is expanded into paths too
    log(base::log::Level::kError, key.key, rcpt.id, "userdb returned an unsafe user name: " + user.name);
    return lookup_failed();
  }

  // mail_uid/mail_gid given as names may need NSS file reads (cached for a second).
  if (now && ((!user.uid && !userdb::is_numeric_id(s.mail_uid)) || (!user.gid && !userdb::is_numeric_id(s.mail_gid))))
    return std::nullopt;
  auto ids = mail_ids(user.uid, user.gid, s);
  if (!ids) {
    log(base::log::Level::kError, user.name, rcpt.id, ids.error().message);
    return lookup_failed();
  }

  const std::string& location_setting = user.mail.empty() ? s.mail_location : user.mail;
  // Built only when a template has a variable: "maildir:~/Maildir" is the common case.
  const bool home_template = user.home.empty() && s.mail_home.find('%') != std::string::npos;
  std::optional<MailUserVars> more;
  if (home_template || location_setting.find('%') != std::string::npos)
    more.emplace(user, ids->uid, ids->gid, deps_.service);
  const base::VarTable no_vars;
  const base::VarTable& more_vars = more ? more->table() : no_vars;

  std::string expanded_home;  // only when mail_home supplies the home: the usual one is not copied
  const std::string* home = &user.home;
  if (home->empty() && !s.mail_home.empty()) {
    auto expanded = base::var_expand(s.mail_home, more ? more->with_user(user.name, "") : base::user_vars(user.name, ""));
    if (!expanded.unknown.empty()) {  // as mail_location: never a home without the variable
      log(base::log::Level::kError, user.name, rcpt.id,
          "mail_home '" + s.mail_home + "': " + base::describe_failure(expanded));
      return lookup_failed();
    }
    expanded_home = std::move(expanded.text);
    home = &expanded_home;
  }
  auto location = storage::parse_mail_location(location_setting, user.name, *home, more_vars);
  if (!location) {
    log(base::log::Level::kError, user.name, rcpt.id,
        "mail_location '" + location_setting + "': " + location.error().message);
    return lookup_failed();
  }

  // lmtp_user_concurrency_limit: a repeated RCPT of the same address in this transaction
  // shares its first occurrence's slot (it is stored once), so it takes none of its own.
  // Only the RCPT path counts: the LDA is one delivery per process, and the privileged
  // writer re-resolves users the network process already counted (options.user is set).
  ConcurrencyLimiter::Token slot;
  bool repeated = !options.user.empty() || std::any_of(env.recipients.begin(), env.recipients.end(),
                              [&](const mail::Recipient& r) {
                                return same_recipient(r.address, rcpt.address);
                              });
  if (!repeated) {
    auto acquired = deps_.limiter->try_acquire(user.name, s.lmtp_user_concurrency_limit);
    if (!acquired) {
      log(base::log::Level::kInfo, user.name, rcpt.id,
          "lmtp_user_concurrency_limit = " + std::to_string(s.lmtp_user_concurrency_limit) +
              " reached, deferring recipient");
      return too_many_concurrent();
    }
    slot = std::move(*acquired);
  }

  // STEP quota check at RCPT (issue: quota). With lmtp_rcpt_check_quota = yes a user whose
  // usage is already over the limit is refused here with 552 5.2.2 (COMPAT item 14). Until
  // then the key has no effect, as in Dovecot without its quota plugin, and the config lists
  // it as ignored (settings_table.cpp marks it no_effect).

  ResolvedRecipient out;
  out.rcpt = rcpt;
  out.key = std::move(key);
  out.target.user = user.name;
  out.target.uid = ids->uid;
  out.target.gid = ids->gid;
  out.target.location = std::move(*location);
  out.user = std::move(user);
  if (s.lmtp_save_to_detail_mailbox) out.mailbox = out.key.detail;  // storage validates it
  out.slot = std::move(slot);
  return out;
} catch (const std::exception& e) {
  log(base::log::Level::kError, "", rcpt.id, std::string("BUG: resolve threw: ") + e.what());
  return lookup_failed();
}

// Everything deliver() computes before the save and reads after it: the save itself may
// complete elsewhere (deliver_begin), so this outlives the call that made it.
struct Engine::Prepared {
  const mail::Envelope* env = nullptr;
  std::span<const ResolvedRecipient> recipients;
  std::chrono::steady_clock::time_point started;
  std::time_t now = 0;
  MessageInfo info;
  std::string headers;
  std::vector<size_t> first_of;  // the same recipient twice: stored once, answered alike
  std::vector<size_t> unique;
  std::vector<storage::SaveTarget> targets;
  std::vector<std::string> keys;  // userdb key per target, for a store that re-resolves
  storage::Body body;
  uint64_t spool_size = 0;
  uint64_t spool_lfs = 0;
};

std::unique_ptr<Engine::Prepared> Engine::prepare(const mail::Envelope& env, const mail::Spool& spool,
                                                  std::span<const ResolvedRecipient> recipients) const {
  const config::Settings& s = *settings_;
  auto p = std::make_unique<Prepared>();
  p->env = &env;
  p->recipients = recipients;
  p->started = std::chrono::steady_clock::now();
  p->now = deps_.clock();

  std::string header_storage;
  const std::string_view header_block = read_header_block(spool, header_storage);
  p->info = scan_message_info(header_block);

  // Delivered-To and `for <...>` only with exactly one local recipient (COMPAT item 8), so
  // the header bytes are the same for every recipient and one batch can hard-link them.
  mail::TraceRequest trace;
  trace.envelope = &env;
  trace.single_recipient = recipients.size() == 1 ? &recipients[0].rcpt : nullptr;
  trace.hostname = hostname_;
  trace.delivery_address = delivery_address_;
  trace.add_received = s.lmtp_add_received_header;
  trace.now = p->now;
  p->headers = mail::trace_headers(trace);

  p->first_of.resize(recipients.size());
  p->unique.reserve(recipients.size());
  for (size_t i = 0; i < recipients.size(); ++i) {
    p->first_of[i] = i;
    for (size_t j : p->unique) {
      if (same_recipient(recipients[j].rcpt.address, recipients[i].rcpt.address)) {
        p->first_of[i] = j;
        break;
      }
    }
    if (p->first_of[i] == i) p->unique.push_back(i);
  }

  const storage::MissingMailbox if_missing = missing_policy(s);
  p->targets.reserve(p->unique.size());
  p->keys.reserve(p->unique.size());
  for (size_t i : p->unique) {
    const ResolvedRecipient& r = recipients[i];
    // lda_original_recipient_header names a header to read the original recipient from
    // (seed: "-a ... may be overridden by reading it from a header"); else ORCPT; else RCPT.
    // Built on demand: only the debug line reads it until Sieve does.
    const auto original_recipient = [&] {
      std::string original;
      if (!s.lda_original_recipient_header.empty())
        original = first_address(first_header(header_block, s.lda_original_recipient_header));
      if (original.empty()) original = r.rcpt.orcpt;
      if (original.empty()) original = r.rcpt.address.to_string();
      return original;
    };

    // STEP filter (issue: Sieve). The user's script runs here on the envelope,
    // `original_recipient()` (Sieve's envelope "to", COMPAT item 17) and the message, and
    // yields actions: keep, fileinto, discard, redirect, reject, vacation. Until then the only
    // action is Sieve's implicit keep into the requested mailbox.

    // STEP quota check at save (issue: quota). A message that does not fit is refused here:
    // 552 5.2.2 Quota exceeded (452 4.2.2 with quota_full_tempfail).
    if (s.mail_debug)
      log(base::log::Level::kDebug, r.user.name, r.rcpt.id,
          "original recipient " + original_recipient() + ", mailbox '" + r.mailbox + "'");
    p->targets.push_back({&r.target, {r.mailbox, if_missing}});
    p->keys.push_back(r.key.key);
  }
  p->body = storage::body_of(spool);
  p->spool_size = spool.size();
  p->spool_lfs = spool.line_feeds();
  return p;
}

std::vector<storage::SaveResult> Engine::store(const Prepared& p) const {
  if (deps_.store) return deps_.store(p.body, p.headers, p.targets, p.keys);
  if (p.targets.size() == 1)
    return {writer_.save(p.body, p.headers, *p.targets[0].user, p.targets[0].mailbox)};
  return writer_.save_batch(p.body, p.headers, p.targets);
}

std::vector<Outcome> Engine::complete(const Prepared& p, std::vector<storage::SaveResult> results) const {
  const config::Settings& s = *settings_;
  const mail::Envelope& env = *p.env;
  const auto& recipients = p.recipients;
  const auto& unique = p.unique;
  const std::time_t now = p.now;
  std::vector<Outcome> outcomes(recipients.size(), Outcome(lookup_failed()));
  // One line per recipient, written together: ten recipients cost one write(2), not ten.
  std::vector<base::log::Line> lines;
  lines.reserve(unique.size());
  auto note = [&](base::log::Level level, std::string_view user, std::string_view session, std::string message) {
    lines.push_back({level, expand_log_prefix(s.mail_log_prefix, {deps_.service, user, pid_, session}),
                     std::move(message)});
  };

  const uint64_t size = p.headers.size() + p.spool_size;
  const uint64_t vsize = size + count_lf(p.headers) + p.spool_lfs;
  const std::string from_envelope = env.null_sender ? "" : env.mail_from.to_string();
  const auto elapsed_ms = [&] {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::steady_clock::now() - p.started)
                                     .count());
  };

  for (size_t k = 0; k < unique.size(); ++k) {
    const ResolvedRecipient& r = recipients[unique[k]];
    const std::string to_envelope = r.rcpt.address.to_string();
    DeliveryLogVars vars;
    vars.message = &p.info;
    vars.from_envelope = from_envelope;
    vars.to_envelope = to_envelope;
    vars.size = size;
    vars.vsize = vsize;
    vars.delivery_time_ms = elapsed_ms();
    const storage::SaveResult& result = k < results.size()
                                            ? results[k]
                                            : storage::SaveResult(base::Unexpected<storage::SaveError>(
                                                  storage::temp_error("no result from storage")));
    Outcome& outcome = outcomes[unique[k]];
    if (result) {
      if (!result->warning.empty())
        note(base::log::Level::kWarning, r.user.name, r.rcpt.id, result->warning);
      const std::string status = status_saved(result->mailbox);
      vars.status = status;
      note(base::log::Level::kInfo, r.user.name, r.rcpt.id, expand_delivery_log(s.deliver_log_format, vars));
      outcome = Delivered{result->mailbox, r.rcpt.id};
      continue;
    }
    const storage::SaveError& err = result.error();
    const std::string mailbox = r.mailbox.empty() ? "INBOX" : r.mailbox;
    const std::string status = status_save_failed(mailbox, err.log_reason);
    vars.status = status;
    note(base::log::Level::kError, r.user.name, r.rcpt.id, expand_delivery_log(s.deliver_log_format, vars));
    switch (err.kind) {
      case storage::SaveError::Kind::kQuotaExceeded:
        if (s.quota_full_tempfail)
          outcome = TempFail{452, "4.2.2", "Quota exceeded (mailbox for user is full)"};
        else
          outcome = PermFail{552, "5.2.2", "Quota exceeded (mailbox for user is full)"};
        break;
      case storage::SaveError::Kind::kPerm:
        outcome = PermFail{err.enhanced.starts_with("5.2.") ? 552 : 550,
                           err.enhanced.starts_with("5.") ? err.enhanced : "5.2.0",
                           internal_error_text(now)};
        break;
      case storage::SaveError::Kind::kTemp:
      case storage::SaveError::Kind::kMailboxNotFound:
        outcome = TempFail{451, err.enhanced.starts_with("4.") ? err.enhanced : "4.2.0",
                           internal_error_text(now)};
        break;
    }
  }
  for (size_t i = 0; i < recipients.size(); ++i)
    if (p.first_of[i] != i) outcomes[i] = outcomes[p.first_of[i]];
  if (deps_.log_lines) {
    deps_.log_lines(lines);
  } else {
    for (const auto& l : lines) deps_.log(l.level, l.prefix, l.message);
  }
  return outcomes;
}

std::vector<Outcome> Engine::deliver(const mail::Envelope& env, const mail::Spool& spool,
                                     std::span<const ResolvedRecipient> recipients) const try {
  if (recipients.empty()) return {};
  auto prepared = prepare(env, spool, recipients);
  return complete(*prepared, store(*prepared));
} catch (const std::exception& e) {
  log(base::log::Level::kError, "", env.transaction_id,
      std::string("BUG: deliver threw: ") + e.what());
  return std::vector<Outcome>(recipients.size(), Outcome(TempFail{}));
}

std::unique_ptr<DeliveryInFlight> Engine::deliver_begin(const mail::Envelope& env, const mail::Spool& spool,
                                                        std::span<const ResolvedRecipient> recipients) const try {
  if (recipients.empty() || !deps_.store_begin) return nullptr;
  auto prepared = prepare(env, spool, recipients);
  auto save = deps_.store_begin(prepared->body, prepared->headers, prepared->targets, prepared->keys);
  if (!save) return nullptr;
  return std::unique_ptr<DeliveryInFlight>(new DeliveryInFlight(*this, std::move(prepared), std::move(save)));
} catch (const std::exception& e) {
  log(base::log::Level::kError, "", env.transaction_id,
      std::string("BUG: deliver_begin threw: ") + e.what());
  return nullptr;
}

DeliveryInFlight::DeliveryInFlight(const Engine& engine, std::unique_ptr<Engine::Prepared> prepared,
                                   std::unique_ptr<StoreInFlight> save)
    : engine_(engine), prepared_(std::move(prepared)), save_(std::move(save)) {}

DeliveryInFlight::~DeliveryInFlight() = default;

int DeliveryInFlight::fd() const { return save_->fd(); }

std::vector<Outcome> DeliveryInFlight::finish() try {
  return engine_.complete(*prepared_, save_->finish());
} catch (const std::exception& e) {
  engine_.log(base::log::Level::kError, "", prepared_->env->transaction_id,
              std::string("BUG: deliver threw: ") + e.what());
  return std::vector<Outcome>(prepared_->recipients.size(), Outcome(TempFail{}));
}

std::optional<std::vector<Outcome>> DeliveryInFlight::try_finish() try {
  auto results = save_->try_finish();
  if (!results) return std::nullopt;
  return engine_.complete(*prepared_, std::move(*results));
} catch (const std::exception& e) {
  engine_.log(base::log::Level::kError, "", prepared_->env->transaction_id,
              std::string("BUG: deliver threw: ") + e.what());
  return std::vector<Outcome>(prepared_->recipients.size(), Outcome(TempFail{}));
}

}  // namespace dovetail::deliver
