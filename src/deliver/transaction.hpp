// transaction.hpp — one LMTP transaction (or one LDA run) over the engine: the resolved
// recipients between RCPT and the end of DATA.
//
// Purpose: the state both applications would otherwise keep themselves — a list of
// ResolvedRecipient aligned with env.recipients (accepted RCPTs, in order) — so lmtpd's
// DeliveryBackend and the LDA run the identical code path:
//   add_recipient() at each RCPT  → nullopt (accepted) or the refusal Outcome
//   deliver() after DATA          → one Outcome per accepted recipient, in order
//   reset() when the transaction ends (RSET, MAIL after DATA, LHLO, disconnect): releases
//   every per-user concurrency slot. The destructor does the same.
// Depends on: deliver/engine.hpp. Error contract: outcomes only, never exceptions.
// Threading: one transaction's calls never overlap (the session serialises them); different
// Transactions may run on different threads against one shared Engine.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "deliver/engine.hpp"

namespace dovetail::deliver {

struct RecipientCheck {
  bool answered = false;
  std::optional<Outcome> refusal;  // when answered: nullopt = accepted
};

class Transaction {
 public:
  explicit Transaction(std::shared_ptr<const Engine> engine) : engine_(std::move(engine)) {}

  // add_recipient() if it can be answered without blocking (Engine::resolve_now), for an
  // event thread; answered = false: nothing happened, call add_recipient() on a worker.
  [[nodiscard]] RecipientCheck add_recipient_now(const mail::Envelope& env, const mail::Recipient& rcpt);
  [[nodiscard]] std::optional<Outcome> add_recipient(const mail::Envelope& env,
                                                     const mail::Recipient& rcpt,
                                                     const ResolveOptions& options = {});
  // The LDA's -m: the mailbox for every recipient added so far ("" = INBOX).
  void set_mailbox(const std::string& mailbox);

  [[nodiscard]] std::vector<Outcome> deliver(const mail::Envelope& env, const mail::Spool& spool);
  // Engine::deliver_begin for this transaction's recipients; nullptr = use deliver().
  [[nodiscard]] std::unique_ptr<DeliveryInFlight> deliver_begin(const mail::Envelope& env,
                                                                const mail::Spool& spool);

  void reset() { recipients_.clear(); }
  size_t size() const { return recipients_.size(); }
  const std::shared_ptr<const Engine>& engine() const { return engine_; }

 private:
  std::shared_ptr<const Engine> engine_;
  std::vector<ResolvedRecipient> recipients_;
};

}  // namespace dovetail::deliver
