// var_expand_fuzz — arbitrary `%` templates (functions, nesting, escapes, shapes) expanded for
// one user, and the same text as a mail_location. Checks: no crash/UB/unbounded recursion,
// the output stays proportional to the input (no blow-up through nested %{if}), a failure is
// always reported in `unknown`, and a refused mail_location is a temporary error.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "base/var_expand.hpp"
#include "storage/mail_location.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dovetail;
  const std::string_view tmpl(reinterpret_cast<const char*>(data), size);
  // A width asks for that many characters (`%099999999n`, as in Dovecot): legitimate, but
  // not what this target looks for. Widths of up to three digits stay in.
  for (size_t i = 0, run = 0; i < size; ++i)
    if ((run = (data[i] >= '0' && data[i] <= '9') ? run + 1 : 0) > 3) return 0;
  const auto vars = base::user_vars("alice@example.com", "/home/alice");
  const auto r = base::var_expand(tmpl, vars);
  // Per `%`: at most a 999-character pad, a hex SHA-512 (128) or `UNSUPPORTED_VARIABLE_`.
  if (r.text.size() > 1200 * (size + 1)) std::abort();
  if (!r.error.empty() && r.unknown.empty()) std::abort();
  if (!r.unknown.empty() && base::describe_failure(r).empty()) std::abort();
  const auto loc = storage::parse_mail_location("maildir:/m/" + std::string(tmpl), "alice@example.com", "/home/alice");
  if (!loc && loc.error().kind != base::ErrorKind::kTemporary && loc.error().kind != base::ErrorKind::kConfig) std::abort();
  return 0;
}
