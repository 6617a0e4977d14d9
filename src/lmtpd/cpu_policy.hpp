// cpu_policy.hpp — the Linux scheduling policy `dovetail serve` runs its threads under.
//
// Purpose: delivery is throughput work. Under SCHED_BATCH a thread of ours that wakes up
// (an fsync finished, a client's command arrived) does not preempt whatever runs on that
// core: it runs when the current task sleeps or its slice ends. A writer thread woken by a
// finished fsync used to preempt an event thread in the middle of a reply; a context switch
// costs ~10 µs on the guests we measure on (decision 0008, docs/PERFORMANCE.md "Where the
// rest goes"). Priority (nice) is unchanged; an idle core still runs a woken thread at
// once. `normal` keeps the kernel default (SCHED_OTHER).
// Depends on: base, POSIX sched. Error contract: apply_cpu_policy returns an Error value.
// Threading: call before any other thread exists: the policy is per thread and inherited
// by threads and processes created afterwards (the privileged writer included).
#pragma once

#include <optional>
#include <string_view>

#include "base/result.hpp"

namespace dovetail::lmtpd {

enum class CpuPolicy { kBatch, kNormal };

std::optional<CpuPolicy> parse_cpu_policy(std::string_view name);  // "batch" | "normal"
std::string_view cpu_policy_name(CpuPolicy policy);
base::Status apply_cpu_policy(CpuPolicy policy);

}  // namespace dovetail::lmtpd
