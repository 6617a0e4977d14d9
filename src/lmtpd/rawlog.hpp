// rawlog.hpp — lmtp_rawlog_dir: the raw bytes of one session, in and out, as Dovecot's rawlog.
//
// Purpose: debugging a client: `<dir>/<YYYYMMDD-HHMMSS>-<session id>.in` holds every byte
// received, `.out` every byte sent, unmodified.
// Depends on: base. Error contract: open() failing returns nullptr after logging once;
// write failures are ignored (a debug aid never breaks delivery). Threading: one session.
// Security: files are created O_EXCL mode 0600 in a directory the admin chose; a missing
// directory means no rawlog (as Dovecot), never mkdir.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/unique_fd.hpp"

namespace dovetail::lmtpd {

class Rawlog {
 public:
  static std::unique_ptr<Rawlog> open(const std::string& dir, const std::string& session_id);
  void in(std::string_view bytes);
  void out(std::string_view bytes);

 private:
  base::UniqueFd in_, out_;
};

}  // namespace dovetail::lmtpd
