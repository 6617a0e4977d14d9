#include "deliver/delivery_log.hpp"

#include "base/var_expand.hpp"

namespace dovetail::deliver {

std::string expand_log_prefix(std::string_view mail_log_prefix, const LogPrefixVars& vars) {
  base::VarTable table = base::user_vars(vars.user, "");
  table.push_back({'s', "service", std::string(vars.service)});
  table.push_back({'\0', "pid", std::string(vars.pid)});
  table.push_back({'\0', "session", std::string(vars.session)});
  return base::var_expand(mail_log_prefix, table).text;
}

std::string expand_delivery_log(std::string_view deliver_log_format, const DeliveryLogVars& vars) {
  static const MessageInfo kEmpty{"unspecified", "", ""};
  const MessageInfo& msg = vars.message ? *vars.message : kEmpty;
  base::VarTable table{
      {'$', "", std::string(vars.status)},
      {'m', "msgid", msg.message_id},
      {'s', "subject", msg.subject},
      {'f', "from", msg.from},
      {'e', "from_envelope", std::string(vars.from_envelope)},
      {'p', "size", std::to_string(vars.size)},
      {'w', "vsize", std::to_string(vars.vsize)},
      {'\0', "to_envelope", std::string(vars.to_envelope)},
      {'\0', "delivery_time", std::to_string(vars.delivery_time_ms)},
      {'\0', "session_time", std::to_string(vars.session_time_ms)},
  };
  return base::var_expand(deliver_log_format, table).text;
}

std::string status_saved(std::string_view mailbox) {
  return "saved mail to " + sanitize(mailbox, 80);
}

std::string status_save_failed(std::string_view mailbox, std::string_view error) {
  return "save failed to " + sanitize(mailbox, 80) + ": " + std::string(error);
}

}  // namespace dovetail::deliver
