// engine_backend.hpp — DeliveryBackend over the delivery engine (src/deliver).
//
// Purpose: the production backend: userdb lookup at RCPT, Maildir store after DATA, both
// through deliver's engine. Depends on: deliver, config. Threading: see DeliveryBackend.
#pragma once

#include "lmtpd/delivery_backend.hpp"

namespace dovetail::lmtpd {

BackendFactory make_engine_backend_factory();

}  // namespace dovetail::lmtpd
