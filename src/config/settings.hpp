// settings.hpp — the typed, immutable settings snapshot every other room reads.
//
// Purpose: one struct whose members are named exactly like the Dovecot 2.3 keys, so
// `settings.recipient_delimiter` means what `recipient_delimiter` means in dovecot.conf.
// The table that maps key -> member, type, default and check lives in settings_table.cpp;
// every member's default equals `doveconf -a` of Dovecot 2.3 (tested) except `protocols`
// (Debian builds Dovecot with an empty default; Dovetail keeps upstream's "imap pop3 lmtp").
// the grammar reader fills a Settings per (protocol, local ip, remote ip) filter.
// Types: strings as std::string (templates with %vars stay unexpanded), booleans as bool,
// sizes in bytes (uint64_t), times as std::chrono::milliseconds, counts as unsigned.
// Some keys parse and are type-checked but nothing acts on them yet; their table rows say so
// (Row::no_effect) and the config lists them as ignored (docs/config.md, "not acted on").
// Lifetime/threading: built once per config (re)load, then shared read-only as
// std::shared_ptr<const Settings>; never mutated after construction.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace dovetail::config {

using Millis = std::chrono::milliseconds;

struct InetListener {
  std::string name;                    // section name, e.g. "lmtp"
  std::vector<std::string> address;    // "address = 192.168.0.24 127.0.0.1 ::1"; empty = "*, ::"
  unsigned port = 0;                   // 0 = listener disabled (Dovecot semantics)
  bool ssl = false;                    // not acted on yet (no TLS)
  bool haproxy = false;                // not acted on yet (no HAProxy protocol)
  // key -> "file:line" of the assignment in effect (absent = not assigned), so listener
  // errors found after parsing (bad port, bad address) still point at the line to fix.
  std::map<std::string, std::string> origin;
};

struct UnixListener {
  std::string path;    // section name; relative to base_dir unless absolute
  unsigned mode = 0600;
  std::string user;    // empty = daemon's user
  std::string group;
};

struct Service {
  std::string name;                    // "lmtp"
  std::string user;                    // drop to this user after binding ("" = stay)
  std::string group;
  std::string executable;              // only "-L" matters: use the protocol's log paths
  // No effect: Dovetail is one process that starts all its event and blocking threads at
  // start-up, so there is no worker process (or thread) to pre-start or to kill when idle.
  unsigned process_min_avail = 0;
  unsigned process_limit = 0;          // 0 = default_process_limit
  unsigned client_limit = 0;           // 0 = default_client_limit
  Millis idle_kill{std::chrono::minutes(1)};  // no effect (see process_min_avail)
  std::vector<InetListener> inet_listeners;
  std::vector<UnixListener> unix_listeners;
};

struct AuthDb {                        // one passdb {} or userdb {} block, in config order
  std::string name;
  std::string driver;                  // passwd-file, static, sql, passwd, ...
  std::string args;                    // template: may hold %vars
  std::string default_fields;
  std::string override_fields;
  std::string skip = "never";          // never | authenticated | unauthenticated
  std::string result_success = "return-ok";
  std::string result_failure = "continue";
  std::string result_internalfail = "continue";
  bool deny = false;                   // passdb: a match means "reject"
  bool master = false;                 // passdb: master-user database
  bool pass = false;                   // passdb: master passdb continues to the next
};

struct Settings {
  // --- core
  std::vector<std::string> protocols{"imap", "pop3", "lmtp"};
  std::string base_dir = "/run/dovecot";   // Debian's Dovecot default
  std::string state_dir = "/var/lib/dovecot";
  std::string listen = "*, ::";        // addresses of an inet_listener that names none
  std::string hostname;                // empty = system hostname
  std::string login_greeting = "Dovecot ready.";
  std::string postmaster_address;      // "postmaster@%d" style template
  std::string submission_host;
  std::string sendmail_path = "/usr/sbin/sendmail";
  std::string login_trusted_networks;
  std::string mail_temp_dir = "/tmp";
  unsigned default_process_limit = 100;
  unsigned default_client_limit = 1000;
  std::string default_internal_user = "dovecot";
  std::string default_login_user = "dovenull";

  // --- mail storage
  std::string mail_location;           // "maildir:~/Maildir" etc.; empty = autodetect
  std::string mail_uid;
  std::string mail_gid;
  std::string mail_home;
  std::string mail_fsync = "optimized";  // optimized | always | never
  bool maildir_copy_with_hardlinks = true;
  unsigned first_valid_uid = 500;
  unsigned last_valid_uid = 0;         // 0 = no limit
  unsigned first_valid_gid = 1;
  unsigned last_valid_gid = 0;
  std::string mail_privileged_group;
  std::string mail_access_groups;

  // --- LDA / LMTP (seed document + 15-lda.conf + 20-lmtp.conf)
  std::string recipient_delimiter = "+";
  std::string lda_original_recipient_header;
  bool lda_mailbox_autocreate = false;
  bool lda_mailbox_autosubscribe = false;
  bool lmtp_proxy = false;
  bool lmtp_save_to_detail_mailbox = false;
  bool lmtp_rcpt_check_quota = false;
  bool lmtp_add_received_header = true;
  std::string lmtp_hdr_delivery_address = "final";  // final | original | none
  unsigned lmtp_user_concurrency_limit = 0;          // 0 = unlimited
  std::string lmtp_rawlog_dir;
  std::string lmtp_proxy_rawlog_dir;
  std::string lmtp_address_translate;
  std::string lmtp_client_workarounds;
  bool quota_full_tempfail = false;
  std::string auth_username_format = "%Lu";

  // --- Dovetail's own limits (settings Dovecot 2.3 lacks; documented in docs/config.md)
  uint64_t lmtp_max_mail_size = 64ull * 1024 * 1024;   // advertised as SIZE; 0 = unlimited
  unsigned lmtp_max_recipients = 10000;                // RCPTs per transaction
  unsigned lmtp_max_line_length = 4101;                // command line, without CRLF (Dovecot's)
  unsigned lmtp_max_invalid_commands = 10;             // the 11th closes the session
  Millis lmtp_idle_timeout{std::chrono::minutes(5)};   // between commands
  Millis lmtp_data_timeout{std::chrono::minutes(5)};   // between DATA/BDAT reads
  uint64_t lmtp_spool_memory_limit = 256 * 1024;       // spool in RAM up to this, then temp file

  // --- logging
  std::string log_path = "syslog";
  std::string info_log_path;
  std::string debug_log_path;
  std::string syslog_facility = "mail";
  std::string instance_name = "dovecot";  // the syslog ident (Dovecot: also doveadm -i)
  std::string log_timestamp = "%b %d %H:%M:%S ";
  std::string mail_log_prefix = "%s(%u)<%{pid}><%{session}>: ";
  std::string deliver_log_format = "msgid=%m: %$";
  bool mail_debug = false;
  bool auth_debug = false;
  bool verbose_proctitle = false;

  // --- TLS (parsed now; acted on by a later issue)
  std::string ssl = "yes";
  std::string ssl_cert;
  std::string ssl_key;

  // --- auth databases and plugin settings, in config order
  std::vector<AuthDb> passdbs;
  std::vector<AuthDb> userdbs;
  std::map<std::string, std::string> plugin;

  std::vector<Service> services;
  // Top-level key -> "file:line" of the assignment in effect (absent = default), for errors
  // found after parsing (e.g. `protocols` without lmtp at serve start-up).
  std::map<std::string, std::string> origin;
  const Service* find_service(const std::string& name) const {
    for (const auto& s : services)
      if (s.name == name) return &s;
    return nullptr;
  }
};

using SettingsPtr = std::shared_ptr<const Settings>;

}  // namespace dovetail::config
