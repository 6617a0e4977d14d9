#include "lmtpd/cpu_policy.hpp"

#include <sched.h>

#include <cerrno>
#include <string>

namespace dovetail::lmtpd {

std::optional<CpuPolicy> parse_cpu_policy(std::string_view name) {
  if (name == "batch") return CpuPolicy::kBatch;
  if (name == "normal") return CpuPolicy::kNormal;
  return std::nullopt;
}

std::string_view cpu_policy_name(CpuPolicy policy) { return policy == CpuPolicy::kBatch ? "batch" : "normal"; }

base::Status apply_cpu_policy(CpuPolicy policy) {
  sched_param param{};
  param.sched_priority = 0;  // the only priority SCHED_OTHER and SCHED_BATCH accept
  const int linux_policy = policy == CpuPolicy::kBatch ? SCHED_BATCH : SCHED_OTHER;
  if (::sched_setscheduler(0, linux_policy, &param) != 0)
    return base::fail(base::Error::from_errno(errno, "sched_setscheduler(" + std::string(cpu_policy_name(policy)) + ")"));
  return {};
}

}  // namespace dovetail::lmtpd
