#include "lmtpd/log_setup.hpp"

#include <sstream>

namespace dovetail::lmtpd {

bool uses_protocol_log_paths(const config::Settings& settings) {
  const config::Service* s = settings.find_service("lmtp");
  if (!s) return false;
  std::istringstream words(s->executable);
  std::string w;
  bool first = true;
  while (words >> w) {
    if (!first && w == "-L") return true;
    first = false;
  }
  return false;
}

base::log::LogConfig log_config_for(const config::Settings& lmtp, const config::Settings& global) {
  const config::Settings& src = uses_protocol_log_paths(lmtp) ? lmtp : global;
  base::log::LogConfig c;
  c.log_path = src.log_path;
  c.info_log_path = src.info_log_path;
  c.debug_log_path = src.debug_log_path;
  c.log_timestamp = src.log_timestamp;
  c.syslog_facility = src.syslog_facility;
  c.syslog_ident = src.instance_name;
  c.debug = lmtp.mail_debug;
  return c;
}

}  // namespace dovetail::lmtpd
