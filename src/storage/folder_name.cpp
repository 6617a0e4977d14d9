#include "storage/folder_name.hpp"

#include <strings.h>

#include <vector>

#include "storage/mutf7.hpp"

namespace dovetail::storage {

namespace {

constexpr size_t kMaxEntry = 255;  // NAME_MAX: one directory entry
constexpr size_t kMaxName = 4096;  // cheap early cut before any work on hostile lengths
constexpr size_t kMaxLevels = 32;

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    auto pos = s.find(sep, start);
    out.push_back(s.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return out;
}

bool has_control(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

}  // namespace

FolderPath resolve_folder(std::string_view name, Layout layout) {
  FolderPath inbox;
  if (name.empty() || name.size() > kMaxName || has_control(name)) return inbox;
  if (name.size() == 5 && strncasecmp(name.data(), "INBOX", 5) == 0) return inbox;
  if (name.starts_with('~')) return inbox;
  const char sep = layout == Layout::kFs ? '/' : '.';
  if (layout == Layout::kMaildirPlusPlus && name.find('/') != std::string_view::npos) return inbox;
  auto levels = split(name, sep);
  if (levels.size() > kMaxLevels) return inbox;
  FolderPath out;
  out.inbox = false;
  out.vname = std::string(name);
  if (layout == Layout::kMaildirPlusPlus) out.dir.push_back('.');
  for (size_t i = 0; i < levels.size(); ++i) {
    std::string_view level = levels[i];
    if (level.empty()) return inbox;
    if (layout == Layout::kFs) {
      if (level.starts_with('.')) return inbox;  // also `.` and `..`
      if (i == 0 && (level == "cur" || level == "new" || level == "tmp")) return inbox;
    }
    auto enc = utf8_to_mutf7(level);
    if (!enc) return inbox;
    if (i > 0) {
      out.dir.push_back(sep);
      out.subscription.push_back('\t');
    }
    out.dir.append(*enc);
    out.subscription.append(*enc);
    if (layout == Layout::kFs && enc->size() > kMaxEntry) return inbox;
  }
  if (layout == Layout::kMaildirPlusPlus && out.dir.size() > kMaxEntry) return inbox;
  return out;
}

}  // namespace dovetail::storage
