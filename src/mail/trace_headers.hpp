// trace_headers.hpp — the header block a delivery prepends: Return-Path, Delivered-To, Received.
//
// Purpose: build, byte for byte, the trace headers Dovecot 2.3's LMTP server writes
// (COMPAT.md item 8 and its transcripts), so mail delivered by Dovetail is indistinguishable
// from mail delivered by Dovecot. Lines end in LF because messages are stored with LF
// (COMPAT.md item 9); continuation lines of Received are tab-indented (RFC 5322 2.2.3).
// RFC 5321 4.4: Return-Path carries the reverse-path, Received the trace of this hop.
// Depends on: mail/envelope.hpp, base. Error contract: builders never fail (every input is
// rendered); parse_delivery_address() reports an unknown setting value as kConfig.
// Threading: pure functions; rfc5322_date() keeps its last second per thread (base::local_time).
#pragma once

#include <ctime>
#include <string>
#include <string_view>

#include "base/result.hpp"
#include "mail/envelope.hpp"

namespace dovetail::mail {

// lmtp_hdr_delivery_address: which address Delivered-To and `for <...>` name.
enum class DeliveryAddress { kFinal, kOriginal, kNone };

[[nodiscard]] base::Result<DeliveryAddress> parse_delivery_address(std::string_view value);

struct TraceRequest {
  const Envelope* envelope = nullptr;  // sender, client, params.smtputf8, transaction id
  // The one local recipient when the transaction has exactly one; nullptr otherwise
  // (then neither Delivered-To nor `for <...>` is written, as Dovecot does).
  const Recipient* single_recipient = nullptr;
  std::string hostname;                // the `hostname` setting (or system hostname)
  DeliveryAddress delivery_address = DeliveryAddress::kFinal;
  bool add_received = true;            // lmtp_add_received_header
  std::time_t now = 0;                 // the date in Received, printed in local time
};

// "Return-Path: <sender>\n" ("<>" for the null sender).
std::string return_path_header(const Envelope& envelope);

// "Received: from ...; <date>\n" with tab-indented continuation lines.
std::string received_header(const TraceRequest& request);

// Return-Path, then Delivered-To (when it applies), then Received (when enabled).
std::string trace_headers(const TraceRequest& request);

// RFC 5322 3.3 date as Dovecot's message_date_create() prints it:
// "Mon, 02 Nov 2026 09:05:07 +0100" (two-digit day, numeric local offset).
std::string rfc5322_date(std::time_t t);

}  // namespace dovetail::mail
