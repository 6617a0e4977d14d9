#include "smtp/command_line.hpp"

#include "mail/utf8.hpp"

namespace dovetail::smtp {

namespace {
char upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
// Dovecot's SMTP_COMMAND_PARSER_MAX_COMMAND_LENGTH.
constexpr size_t kMaxVerbLength = 32;
}  // namespace

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (upper(s[i]) != upper(prefix[i])) return false;
  return true;
}

std::optional<CommandLine> parse_command_line(std::string_view line) {
  size_t i = 0;
  while (i < line.size() && is_alpha(line[i])) ++i;
  if (i > kMaxVerbLength) return std::nullopt;
  // An empty verb is not a syntax error: "" and " x" are the unknown command "" in Dovecot.
  CommandLine cmd;
  cmd.verb.reserve(i);
  for (size_t k = 0; k < i; ++k) cmd.verb.push_back(upper(line[k]));
  if (i == line.size()) return cmd;
  if (line[i] != ' ') return std::nullopt;
  std::string_view args = line.substr(i + 1);
  for (size_t k = 0; k < args.size();) {
    unsigned char c = static_cast<unsigned char>(args[k]);
    if (c == '\t' || (c >= 0x20 && c < 0x7F)) {
      ++k;
      continue;
    }
    if (c < 0x80) return std::nullopt;  // NUL, CR, other controls, DEL
    size_t n = mail::utf8_sequence_length(args.substr(k));
    if (n == 0) return std::nullopt;
    k += n;
  }
  // RFC 5321 4.1.1: trailing white space is tolerated (and dropped, as Dovecot does).
  while (!args.empty() && (args.back() == ' ' || args.back() == '\t')) args.remove_suffix(1);
  // More than one SP between verb and parameters is a syntax error in Dovecot.
  if (!args.empty() && args.front() == ' ') return std::nullopt;
  cmd.args = args;
  return cmd;
}

}  // namespace dovetail::smtp
