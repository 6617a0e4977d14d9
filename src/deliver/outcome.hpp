// outcome.hpp — the one outcome vocabulary of a delivery (STYLE.md habit 2).
//
// Purpose: what happened to one recipient, as a value that the edges translate: lmtpd's
// reply_map renders "<code> <enhanced> <rcpt> <reason>" and lda's exit_map picks an exit
// code from the enhanced status class (5.1.1 → 67, 4.x.x → 75, other 5.x.x → 77).
// `reason` is the client-visible text after "<rcpt> " (Dovecot's wording, COMPAT.md); the
// real cause goes to the error log, never to the client.
// Depends on: std only. Threading: plain values.
#pragma once

#include <string>
#include <variant>

namespace dovetail::deliver {

struct Delivered {
  std::string mailbox;  // vname it went to, e.g. "INBOX", "Lists"; "" when a filter dropped it
  std::string id;       // the id for the "250 2.0.0 <rcpt> <id> Saved" reply (COMPAT item 6/7:
                        // a duplicate recipient gets the first one's id)
};

struct TempFail {
  int code = 451;
  std::string enhanced = "4.3.0";
  std::string reason = "Temporary internal error";
};

struct PermFail {
  int code = 550;
  std::string enhanced = "5.1.1";
  std::string reason;
};

using Outcome = std::variant<Delivered, TempFail, PermFail>;

// The replies Dovecot gives; made here once so LMTP and LDA say the same thing.
inline PermFail user_unknown(const std::string& key) {
  return {550, "5.1.1", "User doesn't exist: " + key};
}
inline TempFail lookup_failed() { return {451, "4.3.0", "Temporary internal error"}; }
inline TempFail too_many_concurrent() {
  return {451, "4.3.0", "Too many concurrent deliveries for user"};
}

inline bool is_delivered(const Outcome& o) { return std::holds_alternative<Delivered>(o); }

}  // namespace dovetail::deliver
