// delivery_log.hpp — the per-delivery log line: mail_log_prefix + deliver_log_format.
//
// Purpose: Dovecot's delivery log, e.g.
//   "lmtp(alice@test.example)<4242><Dnx1...>: Info: msgid=<a@b>: saved mail to INBOX"
// mail_log_prefix variables: %s/%{service}, %u/%{user}, %n, %d, %{pid}, %{session}.
// deliver_log_format variables: %$ status text, %m/%{msgid}, %s/%{subject}, %f/%{from},
// %e/%{from_envelope}, %p/%{size}, %w/%{vsize}, %{to_envelope}, %{delivery_time} (ms),
// %{session_time} (ms).
// Depends on: base/var_expand, deliver/message_info. Error contract: never fails (unknown
// variables expand to "").
// Threading: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "deliver/message_info.hpp"

namespace dovetail::deliver {

struct LogPrefixVars {
  std::string_view service;  // "lmtp" or "lda"
  std::string_view user;     // the userdb user name
  std::string_view pid;      // this process' pid as text
  std::string_view session;  // the recipient's id (the one in its reply)
};

std::string expand_log_prefix(std::string_view mail_log_prefix, const LogPrefixVars& vars);

struct DeliveryLogVars {
  const MessageInfo* message = nullptr;
  std::string_view status;         // "saved mail to INBOX"
  std::string_view from_envelope;  // MAIL FROM address, "" for the null sender
  std::string_view to_envelope;    // the final recipient
  uint64_t size = 0;               // physical size as stored (Maildir S=)
  uint64_t vsize = 0;              // size with CRLF line ends (Maildir W=)
  uint64_t delivery_time_ms = 0;
  uint64_t session_time_ms = 0;
};

std::string expand_delivery_log(std::string_view deliver_log_format, const DeliveryLogVars& vars);

// Dovecot's status texts.
std::string status_saved(std::string_view mailbox);                           // saved mail to X
std::string status_save_failed(std::string_view mailbox, std::string_view error);

}  // namespace dovetail::deliver
