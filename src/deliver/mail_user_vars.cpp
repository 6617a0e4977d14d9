#include "deliver/mail_user_vars.hpp"

namespace dovetail::deliver {

MailUserVars::MailUserVars(const userdb::User& user, uid_t uid, gid_t gid, std::string_view service) {
  table_.reserve(10 + user.extra.size());
  table_.push_back({'i', "uid", std::to_string(uid)});
  table_.push_back({'\0', "gid", std::to_string(gid)});
  table_.push_back({'s', "service", std::string(service)});
  table_.push_back({'\0', "auth_user", user.name});
  // Split as %n/%d split the user (at the last '@'); LMTP has no login, so the "auth" user
  // is the recipient's user name, as in Dovecot.
  const auto at = user.name.rfind('@');
  table_.push_back({'\0', "auth_username", user.name.substr(0, at)});
  table_.push_back({'\0', "auth_domain", at == std::string::npos ? std::string() : user.name.substr(at + 1)});
  auto field = [&](std::string_view name, const std::string& value) {
    table_.push_back({'\0', names_.emplace_back("userdb:" + std::string(name)), value});
  };
  if (user.uid) field("uid", std::to_string(*user.uid));
  if (user.gid) field("gid", std::to_string(*user.gid));
  if (!user.home.empty()) field("home", user.home);
  if (!user.mail.empty()) field("mail", user.mail);
  if (!user.quota_rule.empty()) field("quota_rule", user.quota_rule);
  if (!user.sieve.empty()) field("sieve", user.sieve);
  for (const auto& [name, value] : user.extra) field(name, value);
}

base::VarTable MailUserVars::with_user(std::string_view user, std::string_view home) const {
  base::VarTable vars = base::user_vars(user, home);
  vars.insert(vars.end(), table_.begin(), table_.end());
  return vars;
}

}  // namespace dovetail::deliver
