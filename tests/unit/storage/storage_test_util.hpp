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

// Forwards every call to another Fs: a test double overrides only the calls it changes.
class ForwardingFs : public Fs {
 public:
  explicit ForwardingFs(Fs& inner) : inner_(inner) {}
  int open_at(int d, const char* p, int f, mode_t m) override { return inner_.open_at(d, p, f, m); }
  int mkdir_at(int d, const char* p, mode_t m) override { return inner_.mkdir_at(d, p, m); }
  int rename_at(int a, const char* b, int c, const char* e) override { return inner_.rename_at(a, b, c, e); }
  int link_at(int a, const char* b, int c, const char* e) override { return inner_.link_at(a, b, c, e); }
  int link_file(int fd, int c, const char* e) override { return inner_.link_file(fd, c, e); }
  int unlink_at(int d, const char* p) override { return inner_.unlink_at(d, p); }
  int64_t write(int fd, const void* b, size_t n) override { return inner_.write(fd, b, n); }
  int64_t pread(int fd, void* b, size_t n, uint64_t o) override { return inner_.pread(fd, b, n, o); }
  int64_t copy_range(int i, uint64_t o, int out, size_t n) override { return inner_.copy_range(i, o, out, n); }
  int fsync(int fd) override { return inner_.fsync(fd); }
  int syncfs(int fd) override { return inner_.syncfs(fd); }
  int fchown(int fd, uid_t u, gid_t g) override { return inner_.fchown(fd, u, g); }
  int fchmod(int fd, mode_t m) override { return inner_.fchmod(fd, m); }
  int fstat(int fd, struct stat* st) override { return inner_.fstat(fd, st); }
  int stat_at(int d, const char* p, struct stat* st) override { return inner_.stat_at(d, p, st); }
  int close(int fd) override { return inner_.close(fd); }
  int64_t fs_type(int fd) override { return inner_.fs_type(fd); }
  int set_direct_io(int fd, bool on) override { return inner_.set_direct_io(fd, on); }

 protected:
  Fs& inner_;
};

}  // namespace dovetail::storage::test
