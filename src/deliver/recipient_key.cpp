#include "deliver/recipient_key.hpp"

#include "base/var_expand.hpp"

namespace dovetail::deliver {

SplitLocal split_detail(std::string_view local, std::string_view delimiters) {
  if (delimiters.empty()) return {local, {}, false};
  size_t at = local.find_first_of(delimiters);
  if (at == std::string_view::npos) return {local, {}, false};
  return {local.substr(0, at), local.substr(at + 1), true};
}

RecipientKey recipient_key(const mail::Address& address, std::string_view delimiters,
                           std::string_view auth_username_format) {
  SplitLocal split = split_detail(address.local, delimiters);
  RecipientKey out;
  out.username = std::string(split.user);
  if (!address.domain.empty()) {
    out.username += '@';
    out.username += address.domain;
  }
  out.detail = std::string(split.detail);
  out.had_delimiter = split.had_delimiter;
  // %u/%n/%d of the username, as Dovecot's auth does for the lookup key.
  const auto vars = base::user_var_refs(out.username, "");
  auto expanded = base::var_expand(auth_username_format.empty() ? "%u" : auth_username_format, base::VarRefs(vars));
  out.key = std::move(expanded.text);
  if (!expanded.unknown.empty()) out.unknown_variable = expanded.unknown.front();
  return out;
}

bool is_safe_user_name(std::string_view user) {
  if (user.empty()) return false;
  for (unsigned char c : user)
    if (c < 0x20 || c == 0x7f || c == '/') return false;
  size_t start = 0;
  for (;;) {
    size_t at = user.find('@', start);
    std::string_view part = user.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start);
    if (part == "." || part == "..") return false;
    if (at == std::string_view::npos) return true;
    start = at + 1;
  }
}

}  // namespace dovetail::deliver
