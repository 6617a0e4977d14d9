#include "storage/mail_location.hpp"

#include <strings.h>

#include <optional>

#include "base/var_expand.hpp"

namespace dovetail::storage {

namespace {

// Splits at ':' honouring the `::` escape. A ':' inside a braced variable (`%{sha256:user}`)
// belongs to it. Dovecot expands first and splits the result; splitting first means a
// value (a user name with a ':') can never add an option such as INBOX= to the location.
std::vector<std::string> split_location(std::string_view s) {
  std::vector<std::string> parts(1);
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {  // "%%" (a literal '%') or a braced variable is copied whole
      const size_t n = i + 1 < s.size() && s[i + 1] == '%' ? 2 : base::braced_variable_length(s, i);
      if (n > 0) {
        parts.back() += s.substr(i, n);
        i += n - 1;
        continue;
      }
    }
    if (s[i] != ':') {
      parts.back() += s[i];
    } else if (i + 1 < s.size() && s[i + 1] == ':') {
      parts.back() += ':';
      ++i;
    } else {
      parts.emplace_back();
    }
  }
  return parts;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

base::Result<MailLocation> parse_mail_location(std::string_view setting, std::string_view user,
                                               std::string_view home, const base::VarTable& more) {
  std::string_view text = setting.empty() ? std::string_view("maildir:~/Maildir") : setting;
  auto colon = text.find(':');
  if (colon == std::string_view::npos) {
    return base::fail(base::Error::config("mail_location: missing format prefix (only maildir: is supported): " +
                                          std::string(text)));
  }
  if (!iequals(text.substr(0, colon), "maildir")) {
    return base::fail(base::Error::config("mail_location: unsupported mail format '" +
                                          std::string(text.substr(0, colon)) + "' (only maildir)"));
  }
  auto parts = split_location(text.substr(colon + 1));
  // The variable table is built only for a part that has a `%`: the usual
  // "maildir:~/Maildir" has none, and this runs for every recipient.
  std::optional<std::vector<base::VarRef>> vars;
  MailLocation loc;
  bool home_missing = false;
  base::Expanded failed;  // the unknown variables of every part, for the message
  auto expand = [&](const std::string& raw) {
    base::Expanded ex;
    if (raw.find('%') == std::string::npos) {
      ex.text = raw;
    } else {
      if (!vars) {
        const auto mine = base::user_var_refs(user, home);
        vars.emplace(mine.begin(), mine.end());
        for (const auto& m : more) vars->push_back({m.key, m.name, m.value});
      }
      ex = base::var_expand(raw, base::VarRefs(*vars));
    }
    failed.unknown.insert(failed.unknown.end(), ex.unknown.begin(), ex.unknown.end());
    if (failed.error.empty()) failed.error = std::move(ex.error);
    if (ex.text.starts_with('~') && home.empty()) home_missing = true;
    std::string path = base::expand_home(ex.text, home);
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    return path;
  };
  loc.root = expand(parts[0]);
  for (size_t i = 1; i < parts.size(); ++i) {
    const std::string& opt = parts[i];
    auto eq = opt.find('=');
    std::string key = opt.substr(0, eq);
    std::string value = eq == std::string::npos ? std::string() : opt.substr(eq + 1);
    if (iequals(key, "LAYOUT")) {
      if (iequals(value, "fs")) {
        loc.layout = Layout::kFs;
      } else if (iequals(value, "maildir++")) {
        loc.layout = Layout::kMaildirPlusPlus;
      } else {
        return base::fail(base::Error::config("mail_location: unsupported LAYOUT=" + value));
      }
    } else if (iequals(key, "INBOX")) {
      loc.inbox = expand(value);
    } else if (iequals(key, "CONTROL")) {
      loc.control = expand(value);
    } else if (iequals(key, "INDEX") || iequals(key, "INDEXPVT") || iequals(key, "VOLATILEDIR")) {
      loc.index = expand(value);  // accepted: Dovetail writes no index/volatile files
    } else {
      return base::fail(base::Error::config("mail_location: unsupported option " + key));
    }
  }
  if (!failed.unknown.empty()) {
    // A path with a variable Dovecot would not know either: delivering there would put
    // mail where no reader looks (or mix users), so defer until the config is fixed.
    return base::fail(base::Error::temporary("mail_location: " + base::describe_failure(failed)));
  }
  if (home_missing) {
    return base::fail(base::Error::temporary("mail_location uses ~ but the user has no home directory"));
  }
  for (const std::string* p : {&loc.root, &loc.inbox, &loc.control}) {
    if (!p->empty() && !p->starts_with('/')) {
      return base::fail(base::Error::config("mail_location: path is not absolute: " + *p));
    }
  }
  if (loc.root.empty()) return base::fail(base::Error::config("mail_location: empty root path"));
  if (loc.inbox.empty()) loc.inbox = loc.root;
  if (loc.control.empty()) loc.control = loc.root;
  return loc;
}

}  // namespace dovetail::storage
