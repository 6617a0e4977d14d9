#include "config/settings_table.hpp"

namespace dovetail::config {

#define ROW(key, ...) Row<Settings>{#key, &Settings::key, __VA_ARGS__}
#define OWN(key) Row<Settings>{#key, &Settings::key, {}, false, true}

const std::vector<Row<Settings>>& settings_rows() {
  static const std::vector<Row<Settings>> rows = {
      // core
      ROW(protocols), ROW(base_dir), ROW(state_dir), ROW(hostname), ROW(login_greeting),
      ROW(postmaster_address), ROW(submission_host), ROW(sendmail_path), ROW(login_trusted_networks),
      ROW(mail_temp_dir), ROW(default_process_limit), ROW(default_client_limit),
      ROW(default_internal_user), ROW(default_login_user),
      // mail storage
      ROW(mail_location), ROW(mail_uid), ROW(mail_gid), ROW(mail_home),
      ROW(mail_fsync, {"optimized", "always", "never"}), ROW(maildir_copy_with_hardlinks),
      ROW(first_valid_uid), ROW(last_valid_uid), ROW(first_valid_gid), ROW(last_valid_gid),
      ROW(mail_privileged_group), ROW(mail_access_groups),
      // LDA / LMTP
      ROW(recipient_delimiter), ROW(lda_original_recipient_header), ROW(lda_mailbox_autocreate),
      ROW(lda_mailbox_autosubscribe), ROW(lmtp_proxy), ROW(lmtp_save_to_detail_mailbox),
      ROW(lmtp_rcpt_check_quota), ROW(lmtp_add_received_header),
      ROW(lmtp_hdr_delivery_address, {"final", "original", "none"}), ROW(lmtp_user_concurrency_limit),
      ROW(lmtp_rawlog_dir), ROW(lmtp_proxy_rawlog_dir), ROW(lmtp_address_translate),
      ROW(lmtp_client_workarounds), ROW(quota_full_tempfail), ROW(auth_username_format),
      // Dovetail's own limits
      OWN(lmtp_max_mail_size), OWN(lmtp_max_recipients), OWN(lmtp_max_line_length),
      OWN(lmtp_max_invalid_commands), OWN(lmtp_idle_timeout), OWN(lmtp_data_timeout),
      OWN(lmtp_spool_memory_limit),
      // logging
      ROW(log_path), ROW(info_log_path), ROW(debug_log_path), ROW(syslog_facility), ROW(log_timestamp),
      ROW(mail_log_prefix), ROW(deliver_log_format), ROW(mail_debug), ROW(auth_debug),
      ROW(verbose_proctitle),
      // TLS
      ROW(ssl, {"yes", "no", "required"}), ROW(ssl_cert), ROW(ssl_key),
  };
  return rows;
}
#undef ROW
#undef OWN

const std::vector<Row<Service>>& service_rows() {
  static const std::vector<Row<Service>> rows = {
      {"user", &Service::user},
      {"group", &Service::group},
      {"executable", &Service::executable},
      {"process_min_avail", &Service::process_min_avail},
      {"process_limit", &Service::process_limit},
      {"client_limit", &Service::client_limit},
      {"idle_kill", &Service::idle_kill},
  };
  return rows;
}

const std::vector<Row<InetListener>>& inet_listener_rows() {
  static const std::vector<Row<InetListener>> rows = {
      {"address", &InetListener::address},
      {"port", &InetListener::port},
      {"ssl", &InetListener::ssl},
      {"haproxy", &InetListener::haproxy},
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
      {"name", &AuthDb::name},
      {"driver", &AuthDb::driver},
      {"args", &AuthDb::args},
      {"default_fields", &AuthDb::default_fields},
      {"override_fields", &AuthDb::override_fields},
      {"skip", &AuthDb::skip, {"never", "authenticated", "unauthenticated"}},
      {"result_success", &AuthDb::result_success, {"return-ok", "return", "return-fail", "continue", "continue-ok", "continue-fail"}},
      {"result_failure", &AuthDb::result_failure, {"return-ok", "return", "return-fail", "continue", "continue-ok", "continue-fail"}},
      {"result_internalfail", &AuthDb::result_internalfail, {"return-ok", "return", "return-fail", "continue", "continue-ok", "continue-fail"}},
      {"deny", &AuthDb::deny},
      {"master", &AuthDb::master},
      {"pass", &AuthDb::pass},
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
