// folder_name.hpp — a mailbox name (UTF-8, as a detail or a Sieve fileinto gives it) → the
// directory Dovecot would use for it, or INBOX.
//
// Purpose: the one place that decides which names are folders. Rules (COMPAT.md "Subaddress"):
// empty or any case of `INBOX` → INBOX; names are split at the layout's hierarchy separator
// ('.' for Maildir++, '/' for LAYOUT=fs) and each level is mUTF-7 encoded (`&` → `&-`).
// Invalid names silently become INBOX, as in Dovecot: invalid UTF-8, control bytes, an empty
// level (`.`, `..`, `x..y`, `.hidden`, `a.`), `/` in Maildir++, a leading `~`, a level `.`/`..`
// or starting with '.' in LAYOUT=fs, a top-level `cur`/`new`/`tmp` in LAYOUT=fs (it would be
// INBOX's own directory), and a directory entry longer than 255 bytes (so 10 KB names).
// Security: the returned `dir` is relative, contains no `..` level and never starts with '/'
// or '~' — it cannot leave the mail root.
// Depends on: std. Threading: pure function.
#pragma once

#include <string>
#include <string_view>

#include "storage/mail_location.hpp"

namespace dovetail::storage {

struct FolderPath {
  bool inbox = true;
  std::string vname = "INBOX";   // the name used (for "saved mail to <vname>")
  std::string dir;               // relative to the mail root: ".Lists", "a/b"; empty for INBOX
  std::string subscription;      // name in the `subscriptions` file: levels joined by '\t'
};

FolderPath resolve_folder(std::string_view name, Layout layout);

}  // namespace dovetail::storage
