// envelope.hpp — what one LMTP/LDA transaction says about sender, recipients and client.
//
// Purpose: the protocol-neutral description of a delivery request, shared by smtp (which
// fills it from MAIL/RCPT), deliver (which acts on it) and the LDA (which fills it from argv).
// Depends on: std only. Threading: plain values, copied freely.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dovetail::mail {

// A mailbox address with the local part unquoted (`"a b"@x` -> local "a b").
struct Address {
  std::string local;
  std::string domain;
  // local@domain, quoting the local part when RFC 5321 requires it (Dovecot's rendering).
  std::string to_string() const;
  bool empty() const { return local.empty() && domain.empty(); }
};

struct MailParams {
  std::optional<uint64_t> size;  // SIZE= (RFC 1870)
  std::string body;              // "", "7BIT", "8BITMIME", "BINARYMIME"
  std::string ret;               // DSN RET= (FULL|HDRS)
  std::string envid;             // DSN ENVID=, xtext-decoded
  bool smtputf8 = false;         // SMTPUTF8 (RFC 6531)
};

struct Recipient {
  std::string given;      // address.to_string(): as written, quoting normalised, no <>
  Address address;        // parsed
  std::string orcpt;      // ORCPT rfc822/utf-8 address, decoded, validated, bare; empty when none
  std::string notify;     // DSN NOTIFY= value as sent (validated), empty when none
  std::string id;         // "<SID>[:T<t>][:R<n>]" — the id used in the reply and Received
  unsigned rcpt_index = 0;  // n-th RCPT command of the transaction, rejected ones counted
};

struct ClientInfo {
  std::string lhlo;       // LHLO domain (mail::helo_domain), empty when none given or invalid
  std::string remote_ip;  // empty for UNIX-socket clients
  unsigned remote_port = 0;
  std::string local_ip;
  unsigned local_port = 0;
  bool unix_socket = false;
};

struct Envelope {
  bool null_sender = false;          // MAIL FROM:<>
  Address mail_from;                 // empty when null_sender
  MailParams params;
  std::vector<Recipient> recipients; // accepted ones only, in RCPT order
  std::string session_id;            // 22-char Dovecot-style id of the connection
  std::string transaction_id;        // session_id, or session_id + ":T<n>" for n > 1
  ClientInfo client;
};

}  // namespace dovetail::mail
