#include "deliver/template_check.hpp"

#include "base/var_expand.hpp"
#include "deliver/mail_user_vars.hpp"
#include "storage/mail_location.hpp"

namespace dovetail::deliver {
namespace {

bool depends_on_the_user(std::string_view why) { return why.find("is not a number") != std::string_view::npos; }

std::string where(const config::Settings& s, const std::string& key) {
  auto it = s.origin.find(key);
  return it == s.origin.end() ? std::string() : it->second + ": ";
}

}  // namespace

std::vector<std::string> check_path_templates(const config::Settings& s, std::string_view service) {
  std::vector<std::string> out;
  const userdb::User probe{"probe@example.invalid", 0, 0, "/probe-home"};
  const MailUserVars more(probe, 0, 0, service);
  const std::string consequence = ": every recipient it applies to is deferred (451 4.3.0)";

  if (s.mail_home.find('%') != std::string::npos) {
    auto e = base::var_expand(s.mail_home, more.with_user(probe.name, ""));
    if (!e.unknown.empty() && !depends_on_the_user(e.error))
      out.push_back(where(s, "mail_home") + "mail_home: " + base::describe_failure(e) + consequence);
  }
  if (s.mail_location.find('%') != std::string::npos) {
    auto loc = storage::parse_mail_location(s.mail_location, probe.name, probe.home, more.table());
    if (!loc && loc.error().message.find("unknown variable") != std::string::npos &&
        !depends_on_the_user(loc.error().message))
      out.push_back(where(s, "mail_location") + loc.error().message + consequence);
  }
  return out;
}

}  // namespace dovetail::deliver
