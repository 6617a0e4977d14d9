// line_feeds.hpp — how many LFs of a stored message are not preceded by CR.
//
// Purpose: the Maildir W= (vsize) counts such an LF as two octets (a reader sends CRLF).
// The spool counts them as the body is appended, so this runs over every stored octet
// once: a vector loop (SSE2 on every x86-64, AVX2 where the CPU has it) instead of one
// memchr per line — lines are short, so per-line calls cost more than the scan.
// Depends on: nothing. Threading: pure function.
#pragma once

#include <cstdint>
#include <string_view>

namespace dovetail::mail {

// `after_cr`: the octet before bytes[0] was CR (the previous chunk ended with one).
uint64_t count_lf_not_after_cr(std::string_view bytes, bool after_cr);

}  // namespace dovetail::mail
