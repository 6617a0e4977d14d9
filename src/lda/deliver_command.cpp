#include "lda/deliver_command.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sysexits.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "base/log.hpp"
#include "base/unique_fd.hpp"
#include "config/config.hpp"
#include "deliver/engine.hpp"
#include "deliver/engine_factory.hpp"
#include "lda/exit_map.hpp"
#include "lda/message_input.hpp"
#include "lda/rejection_mail.hpp"
#include "privsep/credentials.hpp"

namespace dovetail::lda {
namespace {

struct Options {
  std::string user, sender, original_rcpt, final_rcpt, mailbox, path, config;
  bool errors_to_stderr = false;
  bool keep_environment = false;
  std::vector<std::string> overrides;
};

void clear_environment() {
  // dovecot-lda drops the caller's environment unless -k; keep only what libc needs.
  std::string tz = std::getenv("TZ") ? std::getenv("TZ") : "";
  ::clearenv();
  if (!tz.empty()) ::setenv("TZ", tz.c_str(), 1);
  ::setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", 1);
}

std::string current_user_name() {
  if (passwd* pw = ::getpwuid(::geteuid())) return pw->pw_name;
  return "";
}

base::Result<config::ConfigPtr> load(const Options& o) {
  std::string path = o.config.empty() ? config::default_config_path() : o.config;
  std::string text;
  std::string name;
  if (path.empty()) {
    text = config::embedded_default_config(::geteuid() == 0);
    name = std::string(config::kEmbeddedConfigName);
  } else {
    auto abs = std::filesystem::absolute(path);
    text = "!include " + abs.string() + "\n";
    name = (abs.parent_path() / "<command line>").string();
  }
  for (const auto& kv : o.overrides) {
    auto eq = kv.find('=');
    if (eq == std::string::npos) return base::fail(base::Error::invalid("-o " + kv + ": expected key=value"));
    text += kv.substr(0, eq) + " = " + kv.substr(eq + 1) + "\n";
  }
  return config::load_config_string(text, name);
}

mail::Address parse_address(const std::string& s) {
  mail::Address a;
  auto at = s.rfind('@');
  if (at == std::string::npos) {
    a.local = s;
  } else {
    a.local = s.substr(0, at);
    a.domain = s.substr(at + 1);
  }
  return a;
}

// As dovecot-lda: a root LDA becomes the recipient completely before it opens any mail file
// or directory, so the kernel applies the user's own permissions to every path — a ~/Maildir
// symlinked to a root-owned directory gets EACCES instead of mail written there as root. The
// uid/gid come from resolve(), which already refused uid 0 and ids outside
// first_valid_uid..last_valid_uid / first_valid_gid..; drop_privileges() refuses uid 0 again.
// Not root: nothing to do (storage refuses a uid other than our own).
base::Status become_recipient(const deliver::ResolvedRecipient& r) {
  if (::geteuid() != 0) return {};
  privsep::Identity who{r.target.uid, r.target.gid, r.user.name};
  if (auto st = privsep::drop_privileges(who, privsep::NewPrivileges::kAllow); !st)
    return base::fail(base::Error::temporary("cannot become uid " + std::to_string(who.uid) + "/gid " +
                                             std::to_string(who.gid) + " for " + r.user.name + ": " +
                                             st.error().message));
  return {};
}

int run(const Options& o) {
  if (!o.keep_environment) clear_environment();
  auto cfg = load(o);
  if (!cfg) {
    std::fprintf(stderr, "dovetail deliver: %s\n", cfg.error().message.c_str());
    return cfg.error().kind == base::ErrorKind::kInvalidInput ? EX_USAGE : EX_CONFIG;
  }
  auto resolved_settings = (*cfg)->resolve({.protocol = "lda"});
  // dovecot-lda adds Return-Path (and Delivered-To) but no Received: there is no network hop.
  auto lda_settings = std::make_shared<config::Settings>(*resolved_settings);
  lda_settings->lmtp_add_received_header = false;
  config::SettingsPtr settings = lda_settings;
  base::log::LogConfig log_config;
  log_config.log_path = settings->log_path;
  log_config.info_log_path = settings->info_log_path;
  log_config.debug_log_path = settings->debug_log_path;
  log_config.log_timestamp = settings->log_timestamp;
  log_config.syslog_facility = settings->syslog_facility;
  log_config.syslog_ident = settings->instance_name;
  log_config.debug = settings->mail_debug;
  base::log::configure(log_config);

  std::string user = o.user.empty() ? current_user_name() : o.user;
  if (user.empty()) {
    std::fprintf(stderr, "dovetail deliver: no destination user (-d) and no name for uid %u\n", ::geteuid());
    return EX_USAGE;
  }

  base::UniqueFd input;
  int in_fd = STDIN_FILENO;
  if (!o.path.empty()) {
    input.reset(::open(o.path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!input) {
      std::fprintf(stderr, "dovetail deliver: open(%s): %s\n", o.path.c_str(), std::strerror(errno));
      return EX_NOINPUT;
    }
    in_fd = input.get();
  }
  mail::Spool spool(settings->lmtp_spool_memory_limit, settings->mail_temp_dir);
  if (auto st = read_message(in_fd, spool); !st) {
    std::fprintf(stderr, "dovetail deliver: %s\n", st.error().message.c_str());
    return EX_TEMPFAIL;
  }

  auto engine = deliver::make_engine(settings, "lda");
  if (!engine) {
    std::fprintf(stderr, "dovetail deliver: %s\n", engine.error().message.c_str());
    return EX_TEMPFAIL;
  }

  mail::Envelope env;
  std::string sender = o.sender.empty() ? return_path_of(spool) : o.sender;
  env.null_sender = sender.empty();
  if (!env.null_sender) env.mail_from = parse_address(sender);
  env.session_id = "lda";
  env.transaction_id = "lda";
  env.client.unix_socket = true;

  mail::Recipient rcpt;
  std::string final_rcpt = o.final_rcpt.empty() ? user : o.final_rcpt;
  rcpt.given = final_rcpt;
  rcpt.address = parse_address(final_rcpt);
  rcpt.orcpt = o.original_rcpt;
  rcpt.rcpt_index = 1;
  rcpt.id = env.transaction_id;

  auto resolution = (*engine)->resolve(env, rcpt, {.user = user});
  deliver::Outcome outcome;
  if (auto* resolved = std::get_if<deliver::ResolvedRecipient>(&resolution)) {
    if (!o.mailbox.empty()) resolved->mailbox = o.mailbox;
    if (auto st = become_recipient(*resolved); !st) {
      std::fprintf(stderr, "dovetail deliver: %s\n", st.error().message.c_str());
      base::log::error("lda(" + user + "): ", st.error().message);
      return EX_TEMPFAIL;
    }
    env.recipients.push_back(resolved->rcpt);
    auto outcomes = (*engine)->deliver(env, spool, std::span(resolved, 1));
    outcome = outcomes.empty() ? deliver::Outcome(deliver::TempFail{}) : outcomes.front();
  } else if (auto* temp = std::get_if<deliver::TempFail>(&resolution)) {
    outcome = *temp;
  } else {
    outcome = std::get<deliver::PermFail>(resolution);
  }

  RejectMode mode = o.errors_to_stderr ? RejectMode::kStderr : RejectMode::kMail;
  if (auto* perm = std::get_if<deliver::PermFail>(&outcome)) {
    std::fprintf(stderr, "dovetail deliver: %s %s\n", perm->enhanced.c_str(), perm->reason.c_str());
    if (perm->enhanced != "5.1.1" && mode == RejectMode::kMail) {
      if (auto sent = send_rejection(*settings, env, final_rcpt, perm->reason, spool); !sent) {
        std::fprintf(stderr, "dovetail deliver: rejection mail failed: %s\n", sent.error().message.c_str());
        return EX_TEMPFAIL;
      }
    }
  } else if (auto* tf = std::get_if<deliver::TempFail>(&outcome)) {
    std::fprintf(stderr, "dovetail deliver: %s %s\n", tf->enhanced.c_str(), tf->reason.c_str());
  }
  return exit_code_for(outcome, mode);
}

}  // namespace

void register_deliver_command(CLI::App& app, std::function<int()>& action) {
  auto options = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand("deliver", "deliver one message from stdin (dovecot-lda compatible)");
  sub->add_option("-d", options->user, "destination user (default: the invoking user)");
  sub->add_option("-f", options->sender, "envelope sender (default: the Return-Path header)");
  sub->add_option("-a", options->original_rcpt, "original envelope recipient");
  sub->add_option("-r", options->final_rcpt, "final envelope recipient");
  sub->add_option("-m", options->mailbox, "mailbox to save into instead of INBOX");
  sub->add_option("-p", options->path, "read the message from this file instead of stdin");
  sub->add_flag("-e", options->errors_to_stderr, "write rejections to stderr and exit 77 instead of mailing the sender");
  sub->add_flag("-k", options->keep_environment, "keep the environment");
  sub->add_option("-c", options->config, "config file");
  sub->add_option("-o", options->overrides, "override a setting: key=value")->allow_extra_args(false);
  sub->callback([options, &action] { action = [options] { return run(*options); }; });
}

}  // namespace dovetail::lda
