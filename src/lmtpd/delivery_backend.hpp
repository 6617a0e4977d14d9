// delivery_backend.hpp — what the LMTP handler needs from the delivery engine, as blocking calls.
//
// Purpose: a seam between the protocol glue (lmtp_handler, runs on event threads) and the
// engine (src/deliver: userdb lookups, Maildir writes, fsync). The handler runs both calls on
// the blocking pool and posts the result back; implementations may block freely. The *_now
// and deliver_begin variants run on the event thread and must not block.
// Depends on: config, deliver (Outcome), mail. Error contract: outcomes, never exceptions;
// anything unclassified is a TempFail. Threading: both calls may run concurrently for
// different connections; one transaction's calls never overlap.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "config/settings.hpp"
#include "deliver/outcome.hpp"
#include "deliver/transaction.hpp"
#include "mail/envelope.hpp"
#include "mail/spool.hpp"

namespace dovetail::lmtpd {

// Per-transaction state lives in the object the factory returns (one per connection).
class DeliveryBackend {
 public:
  virtual ~DeliveryBackend() = default;
  // RCPT: nullopt = accepted.
  virtual std::optional<deliver::Outcome> check_recipient(const mail::Envelope& env,
                                                         const mail::Recipient& rcpt) = 0;
  // RCPT on the event thread, only when it needs no I/O; answered = false: use check_recipient
  // on the blocking pool.
  virtual deliver::RecipientCheck check_recipient_now(const mail::Envelope&, const mail::Recipient&) {
    return {};
  }
  // After DATA: exactly one outcome per env.recipients entry, same order.
  virtual std::vector<deliver::Outcome> deliver(const mail::Envelope& env, const mail::Spool& spool) = 0;
  // After DATA on the event thread, when the save runs in another process (the privileged
  // writer): started here, finished on the event thread once its fd() is readable, so no
  // pool thread waits for it. nullptr = use deliver() on the blocking pool.
  virtual std::unique_ptr<deliver::DeliveryInFlight> deliver_begin(const mail::Envelope&, const mail::Spool&) {
    return nullptr;
  }
  // Transaction over (RSET, new MAIL, disconnect, after DATA).
  virtual void reset() {}
};

using BackendFactory =
    std::function<std::unique_ptr<DeliveryBackend>(const config::SettingsPtr& settings)>;

}  // namespace dovetail::lmtpd
