// template_check.hpp — path templates that cannot be expanded for anyone, found at start-up.
//
// Purpose: Dovecot refuses to start when mail_location names a variable it does not know;
// Dovetail keeps serving (the other settings may be fine) and defers each recipient whose
// path cannot be built. Without a word at start-up, the admin would learn of it only from
// the first 451. This expands mail_location and mail_home for a probe user with every mail
// user variable present and reports, with the setting's file:line, what fails for reasons
// no user changes (an unknown variable, a bad hash option, an unknown comparator, a regex
// that does not compile). Failures that depend on a user's values (`if` on a non-number)
// are left to delivery time.
// Depends on: deliver/mail_user_vars, storage/mail_location, config settings (header only).
// Error contract: returns warning lines; never fails. Threading: pure function.
#pragma once

#include <string>
#include <vector>

#include "config/settings.hpp"

namespace dovetail::deliver {

std::vector<std::string> check_path_templates(const config::Settings& settings, std::string_view service);

}  // namespace dovetail::deliver
