// Interim: accepts every recipient and answers 451 4.3.0 after DATA until the delivery
// engine (src/deliver) lands; replaced by the engine adapter.
#include "lmtpd/engine_backend.hpp"

namespace dovetail::lmtpd {
namespace {
class InterimBackend final : public DeliveryBackend {
 public:
  std::optional<deliver::Outcome> check_recipient(const mail::Envelope&, const mail::Recipient&) override {
    return std::nullopt;
  }
  std::vector<deliver::Outcome> deliver(const mail::Envelope& env, const mail::Spool&) override {
    return std::vector<deliver::Outcome>(env.recipients.size(), deliver::TempFail{});
  }
};
}  // namespace

BackendFactory make_engine_backend_factory() {
  return [](const config::SettingsPtr&) { return std::make_unique<InterimBackend>(); };
}

}  // namespace dovetail::lmtpd
