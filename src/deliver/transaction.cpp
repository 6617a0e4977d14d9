#include "deliver/transaction.hpp"

namespace dovetail::deliver {

std::optional<Outcome> Transaction::add_recipient(const mail::Envelope& env,
                                                  const mail::Recipient& rcpt,
                                                  const ResolveOptions& options) {
  Resolution r = engine_->resolve(env, rcpt, options);
  if (auto* temp = std::get_if<TempFail>(&r)) return Outcome(std::move(*temp));
  if (auto* perm = std::get_if<PermFail>(&r)) return Outcome(std::move(*perm));
  recipients_.push_back(std::move(std::get<ResolvedRecipient>(r)));
  return std::nullopt;
}

RecipientCheck Transaction::add_recipient_now(const mail::Envelope& env, const mail::Recipient& rcpt) {
  std::optional<Resolution> r = engine_->resolve_now(env, rcpt);
  if (!r) return {};
  RecipientCheck out{.answered = true, .refusal = std::nullopt};
  if (auto* temp = std::get_if<TempFail>(&*r))
    out.refusal = Outcome(std::move(*temp));
  else if (auto* perm = std::get_if<PermFail>(&*r))
    out.refusal = Outcome(std::move(*perm));
  else
    recipients_.push_back(std::move(std::get<ResolvedRecipient>(*r)));
  return out;
}

void Transaction::set_mailbox(const std::string& mailbox) {
  for (auto& r : recipients_) r.mailbox = mailbox;
}

std::vector<Outcome> Transaction::deliver(const mail::Envelope& env, const mail::Spool& spool) {
  std::vector<Outcome> outcomes = engine_->deliver(env, spool, recipients_);
  // The session promises env.recipients == the accepted RCPTs; if that ever breaks, answer
  // every recipient rather than misattribute an outcome (habit 1: unclassified = temporary).
  if (env.recipients.size() != recipients_.size())
    return std::vector<Outcome>(env.recipients.size(), Outcome(TempFail{}));
  return outcomes;
}

std::unique_ptr<DeliveryInFlight> Transaction::deliver_begin(const mail::Envelope& env, const mail::Spool& spool) {
  if (env.recipients.size() != recipients_.size()) return nullptr;  // deliver() answers that
  return engine_->deliver_begin(env, spool, recipients_);
}

}  // namespace dovetail::deliver
