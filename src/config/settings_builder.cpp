#include "config/settings_builder.hpp"

#include <algorithm>

#include "config/dovecot_keys.hpp"
#include "config/settings_table.hpp"

namespace dovetail::config {
namespace {

void note(std::vector<std::string>* ignored, std::string name) {
  if (ignored && std::find(ignored->begin(), ignored->end(), name) == ignored->end())
    ignored->push_back(std::move(name));
}

std::string where(const Assignment& a) { return a.file + ":" + std::to_string(a.line); }

base::Status at(const Assignment& a, const std::string& msg) {
  return base::fail(base::Error::config(where(a) + ": " + msg));
}

// Applies one assignment through its row; a row nothing acts on yet is listed as ignored, and
// types that keep an `origin` map remember where each value came from.
template <class S>
base::Status apply_one(S& obj, const Assignment& a, const std::vector<Row<S>>& rows, const std::string& prefix,
                       std::vector<std::string>* ignored) {
  const Row<S>* row = find_row(rows, a.key);
  if (!row) {
    note(ignored, prefix + a.key);
    return {};
  }
  if (auto err = apply_row(obj, *row, a.value)) return at(a, *err);
  if (row->no_effect) note(ignored, prefix + a.key);
  if constexpr (requires { obj.origin; }) obj.origin[a.key] = where(a);
  return {};
}

template <class S>
base::Status apply_keys(S& obj, const Section& sec, const std::vector<Row<S>>& rows, const std::string& prefix,
                        std::vector<std::string>* ignored) {
  for (const auto& a : sec.keys)
    if (auto st = apply_one(obj, a, rows, prefix, ignored); !st) return st;
  return {};
}

base::Status apply_service(Settings& s, const Section& sec, std::vector<std::string>* ignored) {
  const std::string prefix = "service/" + sec.name + "/";
  if (sec.name != "lmtp") note(ignored, "service/" + sec.name);
  std::vector<std::string>* ig = sec.name == "lmtp" ? ignored : nullptr;
  auto it = std::find_if(s.services.begin(), s.services.end(), [&](const Service& x) { return x.name == sec.name; });
  if (it == s.services.end()) {
    s.services.push_back(Service{});
    it = s.services.end() - 1;
    it->name = sec.name;
  }
  Service& svc = *it;
  if (auto st = apply_keys(svc, sec, service_rows(), prefix, ig); !st) return st;
  for (const auto& child : sec.children) {
    const std::string cprefix = prefix + child.type + "/" + child.name + "/";
    if (child.type == "inet_listener") {
      auto l = std::find_if(svc.inet_listeners.begin(), svc.inet_listeners.end(),
                            [&](const InetListener& x) { return !child.name.empty() && x.name == child.name; });
      if (l == svc.inet_listeners.end()) {
        svc.inet_listeners.push_back(InetListener{});
        l = svc.inet_listeners.end() - 1;
        l->name = child.name;
      }
      if (auto st = apply_keys(*l, child, inet_listener_rows(), cprefix, ig); !st) return st;
    } else if (child.type == "unix_listener") {
      auto l = std::find_if(svc.unix_listeners.begin(), svc.unix_listeners.end(),
                            [&](const UnixListener& x) { return x.path == child.name; });
      if (l == svc.unix_listeners.end()) {
        svc.unix_listeners.push_back(UnixListener{});
        l = svc.unix_listeners.end() - 1;
        l->path = child.name;
      }
      if (auto st = apply_keys(*l, child, unix_listener_rows(), cprefix, ig); !st) return st;
    } else {
      note(ig, prefix + child.type + "/" + child.name);
    }
  }
  return {};
}

}  // namespace

Settings default_settings() {
  Settings s;
  Service lmtp;
  lmtp.name = "lmtp";
  auto get = [&](std::string_view type, std::string_view k, const char* fallback) {
    for (const auto& b : dovecot_builtin_services())
      if (b.service == "lmtp" && b.listener_type == type && b.key == k) return std::string(b.value);
    return std::string(fallback);
  };
  std::string err;
  lmtp.executable = get("", "executable", "lmtp");
  lmtp.client_limit = parse_uint(get("", "client_limit", "1"), err).value_or(1);
  UnixListener ul;
  ul.path = "lmtp";
  ul.mode = parse_octal(get("unix_listener", "mode", "0666"), err).value_or(0666);
  lmtp.unix_listeners.push_back(ul);
  s.services.push_back(std::move(lmtp));
  return s;
}

base::Status apply_body(Settings& s, const Section& body, std::vector<std::string>* ignored) {
  if (auto st = apply_keys(s, body, settings_rows(), "", ignored); !st) return st;
  for (const auto& sec : body.children) {
    if (sec.type == "service") {
      if (auto st = apply_service(s, sec, ignored); !st) return st;
    } else if (sec.type == "passdb" || sec.type == "userdb") {
      AuthDb db;
      db.name = sec.name;
      if (auto st = apply_keys(db, sec, authdb_rows(), sec.type + "/", ignored); !st) return st;
      (sec.type == "passdb" ? s.passdbs : s.userdbs).push_back(std::move(db));
    } else if (sec.type == "plugin") {
      for (const auto& a : sec.keys) s.plugin[a.key] = a.value;
    } else {
      note(ignored, sec.name.empty() ? sec.type : sec.type + "/" + sec.name);
    }
  }
  return {};
}

}  // namespace dovetail::config
