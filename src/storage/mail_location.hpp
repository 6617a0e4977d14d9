// mail_location.hpp — one user's `mail_location` (Dovecot 2.3 syntax) parsed and expanded.
//
// Purpose: `maildir:~/Maildir:LAYOUT=fs:INBOX=~/inbox:CONTROL=...:INDEX=...` → absolute paths.
// Only the maildir format is supported; `::` is an escaped `:`. Each path is expanded on its
// own (`%` variables via base::var_expand with user_vars(user, home), then `~`), *after* the
// split, so a user name holding `:` cannot add options. An empty setting means Dovecot's
// autodetection, which here is `maildir:~/Maildir`. CONTROL= holds the subscriptions file;
// INDEX= is accepted and unused (Dovetail writes no index files; Dovecot rebuilds them).
// Depends on: base. Error contract: kConfig for an unsupported format/layout/option or a
// relative path; kTemporary when `~` is used and the user has no home, and when a path uses
// a `%` variable base::var_expand does not know (Dovecot fails the lookup too; expanding it
// to nothing or to a literal would deliver into a directory no reader uses).
// Threading: pure function.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "base/var_expand.hpp"

namespace dovetail::storage {

enum class Layout {
  kMaildirPlusPlus,  // folders are `<root>/.A.B`, separator '.', `maildirfolder` marker file
  kFs,               // folders are `<root>/A/B`, separator '/'
};

struct MailLocation {
  Layout layout = Layout::kMaildirPlusPlus;
  std::string root;     // absolute, no trailing '/'
  std::string inbox;    // INBOX's Maildir; == root unless INBOX= was given
  std::string control;  // directory of the `subscriptions` file; == root unless CONTROL=
  std::string index;    // INDEX= as given (expanded), may be empty; unused
};

// `more`: variables besides the user's %u %n %d %h (the caller's mail user variables:
// %i, %s, %{userdb:...}); looked up after those four.
[[nodiscard]] base::Result<MailLocation> parse_mail_location(std::string_view setting,
                                                             std::string_view user,
                                                             std::string_view home,
                                                             const base::VarTable& more = {});

}  // namespace dovetail::storage
