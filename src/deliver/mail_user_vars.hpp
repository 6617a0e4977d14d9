// mail_user_vars.hpp — the variables Dovecot expands mail_location and mail_home with,
// beyond the user's %u %n %d %h.
//
// Purpose: Dovecot's "mail user variables" are the user's, not the server process's:
//   %i / %{uid}, %{gid}   the ids the mail is written as (userdb uid/gid, else mail_uid/gid)
//   %s / %{service}       "lmtp" or "lda"
//   %{auth_user}          the user name; %{auth_username}, %{auth_domain} its two parts
//   %{userdb:NAME}        a field of the userdb answer ("" when absent; %{userdb:NAME:DEFAULT})
// Without them %{uid} fell through to the process's effective uid, which differs between the
// network process and the privileged writer (root): the writer filed mail under 0/.
// Depends on: base/var_expand, userdb/user. Threading: a value per resolve, not shared.
// The table's long names point into this object: it can neither be copied nor moved.
#pragma once

#include <sys/types.h>

#include <deque>
#include <string>
#include <string_view>

#include "base/var_expand.hpp"
#include "userdb/user.hpp"

namespace dovetail::deliver {

class MailUserVars {
 public:
  MailUserVars(const userdb::User& user, uid_t uid, gid_t gid, std::string_view service);
  MailUserVars(const MailUserVars&) = delete;
  MailUserVars& operator=(const MailUserVars&) = delete;

  const base::VarTable& table() const { return table_; }
  // The whole table for a template: the user's %u %n %d %h, then these.
  base::VarTable with_user(std::string_view user, std::string_view home) const;

 private:
  std::deque<std::string> names_;  // "userdb:<field>": a deque never moves its elements
  base::VarTable table_;
};

}  // namespace dovetail::deliver
