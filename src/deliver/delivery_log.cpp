#include "deliver/delivery_log.hpp"

#include <array>
#include <charconv>

#include "base/var_expand.hpp"

namespace dovetail::deliver {
namespace {

// A number as text in a caller's buffer: the log's tables hold views, not strings.
struct NumberText {
  char buf[24];
  std::string_view text;
  explicit NumberText(uint64_t v) {
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    text = std::string_view(buf, static_cast<size_t>(end - buf));
  }
  NumberText(const NumberText&) = delete;
};

}  // namespace

// Both expansions run once per recipient: their tables are views on the stack.
std::string expand_log_prefix(std::string_view mail_log_prefix, const LogPrefixVars& vars) {
  const auto user = base::user_var_refs(vars.user, "");
  const std::array<base::VarRef, 7> table{user[0], user[1], user[2], user[3],
                                          base::VarRef{'s', "service", vars.service},
                                          base::VarRef{'\0', "pid", vars.pid},
                                          base::VarRef{'\0', "session", vars.session}};
  return base::var_expand(mail_log_prefix, base::VarRefs(table)).text;
}

std::string expand_delivery_log(std::string_view deliver_log_format, const DeliveryLogVars& vars) {
  static const MessageInfo kEmpty{"unspecified", "", ""};
  const MessageInfo& msg = vars.message ? *vars.message : kEmpty;
  const NumberText size(vars.size), vsize(vars.vsize), delivery(vars.delivery_time_ms),
      session(vars.session_time_ms);
  const std::array<base::VarRef, 10> table{{
      {'$', "", vars.status},
      {'m', "msgid", msg.message_id},
      {'s', "subject", msg.subject},
      {'f', "from", msg.from},
      {'e', "from_envelope", vars.from_envelope},
      {'p', "size", size.text},
      {'w', "vsize", vsize.text},
      {'\0', "to_envelope", vars.to_envelope},
      {'\0', "delivery_time", delivery.text},
      {'\0', "session_time", session.text},
  }};
  return base::var_expand(deliver_log_format, base::VarRefs(table)).text;
}

std::string status_saved(std::string_view mailbox) {
  return "saved mail to " + sanitize(mailbox, 80);
}

std::string status_save_failed(std::string_view mailbox, std::string_view error) {
  return "save failed to " + sanitize(mailbox, 80) + ": " + std::string(error);
}

}  // namespace dovetail::deliver
