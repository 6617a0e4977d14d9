// lmtp_connection.hpp — one LMTP connection: smtp::ServerSession + Handler + rawlog behind
// net::StreamProtocol.
//
// Purpose: the glue between the sans-I/O session and the net runtime. RCPT and DATA handling
// run on the blocking pool (DeliveryBackend calls block on userdb and fsync) and complete on
// the connection's thread via ConnectionHandle::post(). Timeouts: lmtp_idle_timeout between
// commands, lmtp_data_timeout inside DATA/BDAT, none while the backend works.
// Depends on: smtp, net, config, deliver (via DeliveryBackend), base. Error contract: a backend
// that throws is a bug: every recipient gets 451 4.3.0 and the error is logged.
// Threading: all methods on the connection thread.
#pragma once

#include <memory>
#include <string>

#include "config/settings.hpp"
#include "lmtpd/delivery_backend.hpp"
#include "net/blocking_pool.hpp"
#include "net/stream_protocol.hpp"

namespace dovetail::lmtpd {

struct ConnectionDeps {
  config::SettingsPtr settings;  // immutable snapshot for this connection
  std::string hostname;          // resolved: `hostname` setting or the system's
  net::BlockingPool* pool = nullptr;
  std::unique_ptr<DeliveryBackend> backend;
  std::string spool_dir;         // "" = mail_temp_dir (privsep may give a private one)
};

std::unique_ptr<net::StreamProtocol> make_lmtp_connection(net::ConnectionContext& context,
                                                          ConnectionDeps deps);

}  // namespace dovetail::lmtpd
