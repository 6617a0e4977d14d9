#include "lmtpd/reply_map.hpp"

#include <type_traits>

namespace dovetail::lmtpd {
namespace {

std::string angle(const mail::Recipient& rcpt) { return "<" + rcpt.given + ">"; }

smtp::Reply failure(const mail::Recipient& rcpt, int code, const std::string& enhanced,
                    const std::string& reason) {
  std::string text = reason;
  if (text.empty()) text = internal_error_reason(std::time(nullptr));
  return {code, enhanced, angle(rcpt) + " " + text};
}

}  // namespace

std::string internal_error_reason(std::time_t now) {
  std::tm tm{};
  ::localtime_r(&now, &tm);
  char ts[32];
  std::strftime(ts, sizeof ts, "%Y-%m-%d %H:%M:%S", &tm);
  return std::string("Internal error occurred. Refer to server log for more information. [") + ts + "]";
}

smtp::Reply rcpt_reply(const mail::Recipient& rcpt, const std::optional<deliver::Outcome>& refusal) {
  if (!refusal || deliver::is_delivered(*refusal)) return {250, "2.1.5", "OK"};
  return std::visit(
      [&](const auto& o) -> smtp::Reply {
        using T = std::decay_t<decltype(o)>;
        if constexpr (std::is_same_v<T, deliver::Delivered>) {
          return {250, "2.1.5", "OK"};
        } else {
          return failure(rcpt, o.code, o.enhanced, o.reason);
        }
      },
      *refusal);
}

smtp::Reply data_reply(const mail::Recipient& rcpt, const deliver::Outcome& outcome) {
  return std::visit(
      [&](const auto& o) -> smtp::Reply {
        using T = std::decay_t<decltype(o)>;
        if constexpr (std::is_same_v<T, deliver::Delivered>) {
          const std::string& id = o.id.empty() ? rcpt.id : o.id;
          return {250, "2.0.0", angle(rcpt) + " " + id + " Saved"};
        } else {
          return failure(rcpt, o.code, o.enhanced, o.reason);
        }
      },
      outcome);
}

// Dovecot's master drops connections over the limit silently; an MTA learns more from a
// 421 with RFC 3463's 4.3.2 "system not accepting network messages".
std::string too_many_connections_line(const std::string& hostname) {
  return "421 4.3.2 " + hostname + " Too many connections\r\n";
}

std::string shutting_down_line(const std::string& hostname) {
  return "421 4.3.2 " + hostname + " Shutting down\r\n";  // Dovecot 2.3.19, observed
}

}  // namespace dovetail::lmtpd
