#include "userdb/db_chain.hpp"

#include <optional>

namespace dovetail::userdb {
namespace {

base::Result<DbRule> parse_rule(const std::string& name, const std::string& text, DbRule fallback) {
  if (text.empty()) return fallback;
  if (text == "return") return DbRule::kReturn;
  if (text == "return-ok") return DbRule::kReturnOk;
  if (text == "return-fail") return DbRule::kReturnFail;
  if (text == "continue") return DbRule::kContinue;
  if (text == "continue-ok") return DbRule::kContinueOk;
  if (text == "continue-fail") return DbRule::kContinueFail;
  return base::fail(base::Error::config(name + ": invalid value '" + text + "'"));
}

// The driver's fields with default_fields under them and override_fields over them.
base::Result<Fields> with_templates(const ChainDb& db, Fields found, const LookupRequest& request) {
  if (db.default_fields.empty() && db.override_fields.empty()) {  // the usual case: no %vars needed
    Fields out;
    merge_fields(out, std::move(found));
    return out;
  }
  const std::string* home_field = find_field(found, "home");
  auto vars = lookup_vars(request.user, request.service, home_field ? *home_field : "");
  auto out = expand_fields(db.default_fields, vars);
  if (!out) return base::fail(out.error());
  for (auto& [key, value] : found) set_field(*out, key, std::move(value));
  if (const auto* h = find_field(*out, "home")) vars = lookup_vars(request.user, request.service, *h);
  auto overrides = expand_fields(db.override_fields, vars);
  if (!overrides) return base::fail(overrides.error());
  for (auto& [key, value] : *overrides) set_field(*out, key, std::move(value));
  return out;
}

}  // namespace

base::Result<DbRules> parse_rules(Role role, const std::string& skip, const std::string& result_success,
                                  const std::string& result_failure,
                                  const std::string& result_internalfail) {
  DbRules rules;
  if (skip.empty() || skip == "never") {
    rules.skip = DbSkip::kNever;
  } else if (skip == (role == Role::kUserdb ? "found" : "authenticated")) {
    rules.skip = DbSkip::kFound;
  } else if (skip == (role == Role::kUserdb ? "notfound" : "unauthenticated")) {
    rules.skip = DbSkip::kNotFound;
  } else {
    return base::fail(base::Error::config("skip: invalid value '" + skip + "'"));
  }
  auto s = parse_rule("result_success", result_success, rules.on_success);
  if (!s) return base::fail(s.error());
  auto f = parse_rule("result_failure", result_failure, rules.on_failure);
  if (!f) return base::fail(f.error());
  auto i = parse_rule("result_internalfail", result_internalfail, rules.on_internalfail);
  if (!i) return base::fail(i.error());
  rules.on_success = *s;
  rules.on_failure = *f;
  rules.on_internalfail = *i;
  return rules;
}

namespace {

// The chain walk, over either lookup (blocking) or lookup_now (nullopt = not answerable now,
// which ends the walk with nullopt).
template <class Lookup>
std::optional<base::Result<Fields>> walk(const std::vector<ChainDb>& chain, const LookupRequest& request,
                                         Lookup&& lookup) {
  bool success = false;
  std::optional<base::Error> internal;  // first internal failure seen on the way
  Fields kept;                          // fields of dbs that succeeded and continued
  size_t i = 0;
  while (i < chain.size()) {
    const ChainDb& db = chain[i];
    auto answer = lookup(*db.driver, request);
    if (!answer) return std::nullopt;
    auto found = std::move(*answer);
    bool is_internal = !found && found.error().kind != base::ErrorKind::kNotFound;
    DbRule rule = found ? db.rules.on_success
                        : (is_internal ? db.rules.on_internalfail : db.rules.on_failure);
    bool go_on = false;
    switch (rule) {
      case DbRule::kReturn: break;
      case DbRule::kReturnOk: success = true; break;
      case DbRule::kReturnFail: success = false; break;
      case DbRule::kContinue: go_on = true; break;
      case DbRule::kContinueOk: go_on = true; success = true; break;
      case DbRule::kContinueFail: go_on = true; success = false; break;
    }
    if (is_internal && !internal) {
      internal = found.error();
      internal->kind = base::ErrorKind::kTemporary;
    }
    if (found) {
      auto mine = with_templates(db, std::move(*found), request);
      if (!mine) return base::fail(mine.error());  // a broken template: temporary
      merge_fields(kept, std::move(*mine));
    }
    size_t next = i + 1;
    while (next < chain.size() &&
           ((chain[next].rules.skip == DbSkip::kFound && success) ||
            (chain[next].rules.skip == DbSkip::kNotFound && !success)))
      ++next;
    if (!go_on || next >= chain.size()) break;
    i = next;
  }
  if (success) return base::Result<Fields>(std::move(kept));
  if (internal) return base::Result<Fields>(base::fail(*internal));
  return base::Result<Fields>(base::fail(base::Error::not_found("unknown user " + request.user)));
}

}  // namespace

base::Result<Fields> run_chain(const std::vector<ChainDb>& chain, const LookupRequest& request) {
  return *walk(chain, request, [](Driver& d, const LookupRequest& r) {
    return std::optional<base::Result<Fields>>(d.lookup(r));
  });
}

std::optional<base::Result<Fields>> run_chain_now(const std::vector<ChainDb>& chain, const LookupRequest& request) {
  return walk(chain, request, [](Driver& d, const LookupRequest& r) { return d.lookup_now(r); });
}

}  // namespace dovetail::userdb
