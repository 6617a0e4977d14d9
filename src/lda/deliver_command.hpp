// deliver_command.hpp — `dovetail deliver`: the dovecot-lda compatible local delivery agent.
//
// Flags as dovecot-lda: -d user, -f sender, -a original recipient, -r final recipient,
// -m mailbox, -p message file (default stdin), -e (rejections on stderr, exit 77), -k (keep
// the environment), -c config, -o key=value (repeatable). Same delivery engine as LMTP.
// Exit codes: lda/exit_map.hpp.
// Security: started as root (e.g. Postfix mailbox_command with a root default_privs, or by
// hand), it drops to the recipient's uid/gid for good — setgroups, setresgid, setresuid —
// right after the userdb lookup and before any mail file or directory is opened; a failed
// drop is a temporary failure (75). Without root it writes only as itself.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace dovetail::lda {

void register_deliver_command(CLI::App& app, std::function<int()>& action);

}  // namespace dovetail::lda
