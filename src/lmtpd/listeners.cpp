#include "lmtpd/listeners.hpp"

#include <algorithm>

namespace dovetail::lmtpd {
namespace {

// "file:line: " of the assignment of `key`, or "" when it was not assigned (defaults, tests).
std::string at(const std::map<std::string, std::string>& origin, const std::string& key) {
  auto it = origin.find(key);
  return it == origin.end() ? std::string() : it->second + ": ";
}

base::Unexpected<base::Error> config_error(std::string message) {
  return base::fail(base::Error::config(std::move(message)));
}

}  // namespace

base::Result<std::vector<net::ListenSpec>> listeners_from_settings(const config::Settings& settings,
                                                                   const std::string& listen) {
  std::vector<net::ListenSpec> out;
  const bool lmtp_enabled = std::find(settings.protocols.begin(), settings.protocols.end(),
                                      "lmtp") != settings.protocols.end();
  // Dovecot starts no lmtp service then; a daemon with nothing to serve would idle forever.
  if (!lmtp_enabled) {
    std::string list;
    for (const auto& p : settings.protocols) list += (list.empty() ? "" : " ") + p;
    return config_error(at(settings.origin, "protocols") + "protocols = " + list +
                        ": lmtp is not listed, so dovetail serve would have no listener "
                        "(add it: protocols = $protocols lmtp)");
  }
  const config::Service* service = settings.find_service("lmtp");
  if (service) {
    for (const auto& inet : service->inet_listeners) {
      const std::string what = "service lmtp inet_listener " + inet.name + ": ";
      if (inet.port > 65535)
        return config_error(at(inet.origin, "port") + what + "invalid port " + std::to_string(inet.port));
      const bool own = !inet.address.empty();
      auto addrs = net::expand_inet_addresses(own ? inet.address : std::vector<std::string>{listen});
      if (!addrs)
        return config_error((own ? at(inet.origin, "address") : at(settings.origin, "listen")) + what +
                            addrs.error().message);
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
        return config_error("service lmtp: listener " + out[i].describe() + " is configured twice");
  return out;
}

}  // namespace dovetail::lmtpd
