#include "lmtpd/listeners.hpp"

#include <algorithm>

namespace dovetail::lmtpd {

base::Result<std::vector<net::ListenSpec>> listeners_from_settings(const config::Settings& settings,
                                                                   const std::string& listen) {
  std::vector<net::ListenSpec> out;
  const bool lmtp_enabled = std::find(settings.protocols.begin(), settings.protocols.end(),
                                      "lmtp") != settings.protocols.end();
  if (!lmtp_enabled) return out;
  const config::Service* service = settings.find_service("lmtp");
  if (service) {
    for (const auto& inet : service->inet_listeners) {
      auto addrs = net::expand_inet_addresses(inet.address.empty() ? std::vector<std::string>{listen}
                                                                   : inet.address);
      if (!addrs)
        return base::fail(base::Error::config("service lmtp inet_listener " + inet.name + ": " +
                                              addrs.error().message));
      if (inet.port > 65535)
        return base::fail(base::Error::config("service lmtp inet_listener " + inet.name +
                                              ": invalid port " + std::to_string(inet.port)));
      for (const auto& a : *addrs) {
        net::ListenSpec s;
        s.kind = net::ListenSpec::Kind::kInet;
        s.name = inet.name;
        s.address = a;
        s.port = inet.port;
        out.push_back(std::move(s));
      }
    }
    for (const auto& ux : service->unix_listeners) {
      net::ListenSpec s;
      s.kind = net::ListenSpec::Kind::kUnix;
      s.name = ux.path;
      s.path = net::resolve_unix_path(settings.base_dir, ux.path);
      s.mode = ux.mode;
      s.user = ux.user;
      s.group = ux.group;
      out.push_back(std::move(s));
    }
  }
  const std::string default_path = net::resolve_unix_path(settings.base_dir, "lmtp");
  const bool have_default = std::any_of(out.begin(), out.end(), [&](const net::ListenSpec& s) {
    return s.kind == net::ListenSpec::Kind::kUnix && s.path == default_path;
  });
  if (!have_default) {
    net::ListenSpec s;
    s.kind = net::ListenSpec::Kind::kUnix;
    s.name = "lmtp";
    s.path = default_path;
    s.mode = 0666;
    out.push_back(std::move(s));
  }
  // The same path or address:port twice would fail at bind with a confusing message.
  for (size_t i = 0; i < out.size(); ++i)
    for (size_t j = i + 1; j < out.size(); ++j)
      if (out[i].describe() == out[j].describe() && !(out[i].kind == net::ListenSpec::Kind::kInet && out[i].port == 0))
        return base::fail(base::Error::config("service lmtp: listener " + out[i].describe() +
                                              " is configured twice"));
  return out;
}

}  // namespace dovetail::lmtpd
