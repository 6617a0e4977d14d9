// storage_test_util.hpp — shared helpers for the storage unit tests.
#pragma once

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "storage/maildir_writer.hpp"

namespace dovetail::storage::test {

// Root may not write mail as uid 0, so tests run as root deliver as nobody; otherwise as self.
inline uid_t test_uid() { return ::geteuid() == 0 ? 65534 : ::geteuid(); }
inline gid_t test_gid() { return ::geteuid() == 0 ? 65534 : ::getegid(); }

inline UserTarget make_user(const std::string& root, Layout layout = Layout::kMaildirPlusPlus) {
  UserTarget u;
  u.user = "alice@test.example";
  u.uid = test_uid();
  u.gid = test_gid();
  u.location.layout = layout;
  u.location.root = root;
  u.location.inbox = root;
  u.location.control = root;
  return u;
}

inline Body memory_body(std::string_view bytes) {
  Body b;
  b.memory = bytes;
  b.size = bytes.size();
  // What a correct spool reports: LFs not preceded by CR (each becomes CRLF in W=).
  for (size_t i = 0; i < bytes.size(); ++i) b.line_feeds += (bytes[i] == '\n' && (i == 0 || bytes[i - 1] != '\r'));
  return b;
}

// Entry names in a directory (sorted); empty when it does not exist.
inline std::vector<std::string> list_dir(const std::filesystem::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace dovetail::storage::test
