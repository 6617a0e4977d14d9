#include "config/settings_table.hpp"

namespace dovetail::config {

#define ROW(key, ...) Row<Settings>{#key, &Settings::key, __VA_ARGS__}
#define OWN(key) Row<Settings>{#key, &Settings::key, {}, false, true}
// Parsed but not acted on (Row::no_effect): listed as ignored when assigned.
#define INERT(key) Row<Settings>{.name = #key, .member = &Settings::key, .no_effect = true}

const std::vector<Row<Settings>>& settings_rows() {
  static const std::vector<Row<Settings>> rows = {
      // core
      ROW(protocols), ROW(listen), ROW(base_dir), INERT(state_dir), ROW(hostname), ROW(login_greeting),
      ROW(postmaster_address), INERT(submission_host), ROW(sendmail_path),
      INERT(login_trusted_networks), ROW(mail_temp_dir), ROW(default_process_limit),
      ROW(default_client_limit), ROW(default_internal_user), INERT(default_login_user),
      // mail storage
      ROW(mail_location), ROW(mail_uid), ROW(mail_gid), ROW(mail_home),
      ROW(mail_fsync, {"optimized", "always", "never"}),
      ROW(maildir_copy_with_hardlinks),
      ROW(first_valid_uid), ROW(last_valid_uid), ROW(first_valid_gid), ROW(last_valid_gid),
      INERT(mail_privileged_group), INERT(mail_access_groups),
      // LDA / LMTP
      ROW(recipient_delimiter), ROW(lda_original_recipient_header), ROW(lda_mailbox_autocreate),
      ROW(lda_mailbox_autosubscribe),
      ROW(lmtp_proxy),  // only as far as is safe: proxy=y recipients are deferred (engine.cpp)
      ROW(lmtp_save_to_detail_mailbox),
      INERT(lmtp_rcpt_check_quota),  // no quota yet; Dovecot without its quota plugin: same
      ROW(lmtp_add_received_header),
      ROW(lmtp_hdr_delivery_address, {"final", "original", "none"}), ROW(lmtp_user_concurrency_limit),
      ROW(lmtp_rawlog_dir), INERT(lmtp_proxy_rawlog_dir), INERT(lmtp_address_translate),
      INERT(lmtp_client_workarounds), ROW(quota_full_tempfail), ROW(auth_username_format),
      // Dovetail's own limits
      OWN(lmtp_max_mail_size), OWN(lmtp_max_recipients), OWN(lmtp_max_line_length),
      OWN(lmtp_max_invalid_commands), OWN(lmtp_idle_timeout), OWN(lmtp_data_timeout),
      OWN(lmtp_spool_memory_limit),
      // logging
      ROW(log_path), ROW(info_log_path), ROW(debug_log_path), ROW(syslog_facility), ROW(instance_name),
      ROW(log_timestamp),
      ROW(mail_log_prefix), ROW(deliver_log_format), ROW(mail_debug), INERT(auth_debug),
      INERT(verbose_proctitle),
      // TLS: no TLS yet
      Row<Settings>{.name = "ssl", .member = &Settings::ssl, .allowed = {"yes", "no", "required"},
                    .no_effect = true},
      INERT(ssl_cert), INERT(ssl_key),
  };
  return rows;
}
#undef ROW
#undef OWN
#undef INERT

const std::vector<Row<Service>>& service_rows() {
  static const std::vector<Row<Service>> rows = {
      {"user", &Service::user},
      {"group", &Service::group},
      {"executable", &Service::executable},
      // No processes to pre-start or idle-kill: every thread starts with the daemon.
      {.name = "process_min_avail", .member = &Service::process_min_avail, .no_effect = true},
      {"process_limit", &Service::process_limit},
      {"client_limit", &Service::client_limit},
      {.name = "idle_kill", .member = &Service::idle_kill, .no_effect = true},
  };
  return rows;
}

const std::vector<Row<InetListener>>& inet_listener_rows() {
  static const std::vector<Row<InetListener>> rows = {
      {"address", &InetListener::address},
      {"port", &InetListener::port},
      {.name = "ssl", .member = &InetListener::ssl, .no_effect = true},
      {.name = "haproxy", .member = &InetListener::haproxy, .no_effect = true},
  };
  return rows;
}

const std::vector<Row<UnixListener>>& unix_listener_rows() {
  static const std::vector<Row<UnixListener>> rows = {
      {"mode", &UnixListener::mode, {}, true},
      {"user", &UnixListener::user},
      {"group", &UnixListener::group},
  };
  return rows;
}

const std::vector<Row<AuthDb>>& authdb_rows() {
  static const std::vector<Row<AuthDb>> rows = {
      {.name = "name", .member = &AuthDb::name, .no_effect = true},  // a label for logs Dovetail does not print
      {"driver", &AuthDb::driver},
      {"args", &AuthDb::args},
      {"default_fields", &AuthDb::default_fields},
      {"override_fields", &AuthDb::override_fields},
      {"skip", &AuthDb::skip, {"never", "authenticated", "unauthenticated"}},
      {"result_success", &AuthDb::result_success, {"return-ok", "return", "return-fail", "continue", "continue-ok", "continue-fail"}},
      {"result_failure", &AuthDb::result_failure, {"return-ok", "return", "return-fail", "continue", "continue-ok", "continue-fail"}},
      {"result_internalfail", &AuthDb::result_internalfail, {"return-ok", "return", "return-fail", "continue", "continue-ok", "continue-fail"}},
      // userdb/user_db.hpp: deny and master passdbs are not honoured (looked up like any other).
      {.name = "deny", .member = &AuthDb::deny, .no_effect = true},
      {.name = "master", .member = &AuthDb::master, .no_effect = true},
      {.name = "pass", .member = &AuthDb::pass, .no_effect = true},
  };
  return rows;
}

base::Status check(const Settings& s) {
  if (s.last_valid_uid != 0 && s.first_valid_uid > s.last_valid_uid)
    return base::fail(base::Error::config("first_valid_uid is larger than last_valid_uid"));
  if (s.last_valid_gid != 0 && s.first_valid_gid > s.last_valid_gid)
    return base::fail(base::Error::config("first_valid_gid is larger than last_valid_gid"));
  if (s.lmtp_max_line_length < 512)
    return base::fail(base::Error::config("lmtp_max_line_length must be at least 512 (RFC 5321 4.5.3.1.4)"));
  if (s.lmtp_max_recipients == 0)
    return base::fail(base::Error::config("lmtp_max_recipients must be at least 1"));
  for (const auto& db : s.passdbs)
    if (db.driver.empty()) return base::fail(base::Error::config("passdb is missing driver"));
  for (const auto& db : s.userdbs)
    if (db.driver.empty()) return base::fail(base::Error::config("userdb is missing driver"));
  return {};
}

}  // namespace dovetail::config
