// unique_name.hpp — Maildir unique file names exactly as Dovecot 2.3 makes them:
// `<secs>.M<usecs>P<pid>.<host>` and, once in new/, `<that>,S=<size>,W=<vsize>`.
//
// Purpose: S = octets in the file (stored with LF line endings), W = the size the message has
// with CRLF line endings (S + number of LFs); IMAP clients and Dovecot read both from the name
// instead of stat()ing. <host> is the *system* hostname (not the `hostname` setting) with '/'
// and ':' written as `\057` and `\072`, as Dovecot does, so the name stays one path level.
// Uniqueness: the (secs, usecs) pair is strictly increasing within the process (bumped by one
// microsecond when the clock did not move), plus the pid; O_EXCL at create catches the rest.
// Depends on: std, POSIX. Threading: next_unique_base() is thread-safe (one atomic).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace dovetail::storage {

std::string next_unique_base();
std::string with_sizes(std::string_view base, uint64_t size, uint64_t vsize);
const std::string& maildir_hostname();
// Octets of `bytes` written with CRLF line endings: a bare LF counts 2, an existing CRLF 2.
uint64_t crlf_size(std::string_view bytes);

}  // namespace dovetail::storage
