#include "smtp/command_line.hpp"

#include "mail/utf8.hpp"

namespace dovetail::smtp {

namespace {
char upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
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
  if (i == 0) return std::nullopt;
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
  cmd.args = args;
  return cmd;
}

}  // namespace dovetail::smtp
