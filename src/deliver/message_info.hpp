// message_info.hpp — the few header values a delivery log line names (%m %s %f).
//
// Purpose: a cheap scan of the header block (only the first kHeaderScanLimit octets of the
// spool are read) for the first Message-ID, Subject and From, unfolded (RFC 5322 2.2.3)
// and sanitised like Dovecot's str_sanitize(): control bytes become '?', long values are
// cut with "...". Encoded words (RFC 2047) are left as they are.
// Depends on: mail/spool.hpp, base. Error contract: never fails; a spool read error gives
// empty values (the log line must not stop a delivery).
// Threading: pure functions (the spool is only read).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "mail/spool.hpp"

namespace dovetail::deliver {

inline constexpr size_t kHeaderScanLimit = 64 * 1024;

struct MessageInfo {
  std::string message_id;  // "<a@b>", or "unspecified" when absent (Dovecot's word)
  std::string subject;
  std::string from;        // the From address, "local@domain"
};

MessageInfo scan_message_info(std::string_view header_block);

// The first kHeaderScanLimit octets of the message (enough for any sane header block): a view
// of the spool's memory, or those octets read into `storage` when the spool is a file.
std::string_view read_header_block(const mail::Spool& spool, std::string& storage);

// First header `name` (case-insensitive), unfolded and trimmed; "" when absent.
std::string first_header(std::string_view header_block, std::string_view name);

// The first address of an address header value: "Name <a@b>" → "a@b", "a@b (c)" → "a@b".
std::string first_address(std::string_view value);

// Dovecot's str_sanitize(): control bytes → '?', cut to max_len with a trailing "...".
std::string sanitize(std::string_view value, size_t max_len);

}  // namespace dovetail::deliver
