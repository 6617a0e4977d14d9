#include "mail/trace_headers.hpp"

#include <cstdint>
#include <cstdio>
#include <ctime>
#include <string>

#include "base/local_time.hpp"

namespace dovetail::mail {
namespace {

constexpr const char* kWeekdays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

std::string sender_text(const Envelope& envelope) {
  return envelope.null_sender ? std::string() : envelope.mail_from.to_string();
}

// The address Delivered-To and `for <...>` name; empty means "leave it out".
// Dovecot: Delivered-To uses ORCPT under `original` and is absent without one, while the
// Received `for` clause falls back to the final recipient (COMPAT.md item 8).
std::string delivered_to_address(const TraceRequest& request) {
  const Recipient* rcpt = request.single_recipient;
  if (rcpt == nullptr) return {};
  switch (request.delivery_address) {
    case DeliveryAddress::kFinal: return rcpt->address.to_string();
    case DeliveryAddress::kOriginal: return rcpt->orcpt;
    case DeliveryAddress::kNone: return {};
  }
  return {};
}

std::string received_for_address(const TraceRequest& request) {
  const Recipient* rcpt = request.single_recipient;
  if (rcpt == nullptr) return {};
  switch (request.delivery_address) {
    case DeliveryAddress::kFinal: return rcpt->address.to_string();
    case DeliveryAddress::kOriginal:
      return rcpt->orcpt.empty() ? rcpt->address.to_string() : rcpt->orcpt;
    case DeliveryAddress::kNone: return {};
  }
  return {};
}

}  // namespace

base::Result<DeliveryAddress> parse_delivery_address(std::string_view value) {
  if (value == "final") return DeliveryAddress::kFinal;
  if (value == "original") return DeliveryAddress::kOriginal;
  if (value == "none") return DeliveryAddress::kNone;
  return base::fail(base::Error::config("lmtp_hdr_delivery_address: unknown value '" +
                                        std::string(value) + "' (final|original|none)"));
}

std::string rfc5322_date(std::time_t t) {
  // Every delivery of a second carries the same date: format it once per thread and second.
  thread_local uint64_t cached_conversion = 0;
  thread_local std::string cached;
  const base::LocalTime local = base::local_time(t);
  if (local.conversion == cached_conversion) return cached;
  const std::tm& tm = local.tm;
  long offset = tm.tm_gmtoff / 60;  // minutes east of UTC, as Dovecot's utc_offset()
  char sign = '+';
  if (offset < 0) {
    sign = '-';
    offset = -offset;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d %c%02ld%02ld",
                kWeekdays[tm.tm_wday % 7], tm.tm_mday, kMonths[tm.tm_mon % 12], tm.tm_year + 1900,
                tm.tm_hour, tm.tm_min, tm.tm_sec, sign, offset / 60, offset % 60);
  cached = buf;
  cached_conversion = local.conversion;
  return cached;
}

std::string return_path_header(const Envelope& envelope) {
  return "Return-Path: <" + sender_text(envelope) + ">\n";
}

std::string received_header(const TraceRequest& request) {
  const Envelope& env = *request.envelope;
  std::string out;
  out.reserve(320);  // the usual header fits: one allocation instead of one per append
  out += "Received: from ";
  // lhlo is empty without LHLO and for an invalid LHLO name (mail::helo_domain), which
  // Dovecot writes as "unknown" too.
  out += env.client.lhlo.empty() ? std::string_view("unknown") : std::string_view(env.client.lhlo);
  // A UNIX-socket peer has no address, and Dovecot then omits the ([...]) part entirely.
  if (!env.client.unix_socket && !env.client.remote_ip.empty()) {
    out += " ([";
    out += env.client.remote_ip;
    out += "])";
  }
  out += "\n\tby ";
  out += request.hostname;
  out += env.params.smtputf8 ? " with UTF8LMTP" : " with LMTP";  // RFC 6531 3.7.3
  out += "\n\tid ";
  out += env.transaction_id;
  out += "\n\t(envelope-from <";
  out += sender_text(env);
  out += ">)";
  if (std::string rcpt = received_for_address(request); !rcpt.empty()) {
    out += "\n\tfor <";
    out += rcpt;
    out += ">";
  }
  out += "; ";
  out += rfc5322_date(request.now);
  out += "\n";
  return out;
}

std::string trace_headers(const TraceRequest& request) {
  std::string out;
  out.reserve(512);  // all three usual headers in one allocation
  out += return_path_header(*request.envelope);
  if (std::string to = delivered_to_address(request); !to.empty()) {
    out += "Delivered-To: ";
    out += to;
    out += "\n";
  }
  if (request.add_received) out += received_header(request);
  return out;
}

}  // namespace dovetail::mail
