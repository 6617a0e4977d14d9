#include "storage/maildir_dirs.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <vector>

namespace dovetail::storage {

namespace {

constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;

base::Unexpected<SaveError> fail_errno(int neg, const std::string& what) {
  return base::Unexpected<SaveError>(classify_errno(-neg, what));
}

// A directory just made: perms.dir_mode's permission bits, as apply_file_mode. In a setgid
// parent the kernel gave it the setgid bit and the parent's group; a chmod by a thread outside
// that group would take the bit away (and with it the shared group of everything below), so
// there the umask's mode is kept.
int apply_dir_mode(Fs& fs, int fd, const Perms& perms) {
  if ((perms.dir_mode & 077) == 0) return 0;
  struct stat st {};
  if (int r = fs.fstat(fd, &st); r != 0) return r < 0 ? r : -EIO;
  if ((st.st_mode & 0777) == (perms.dir_mode & 0777)) return 0;
  if ((st.st_mode & S_ISGID) != 0 && !perms.chown && st.st_gid != perms.creator_gid) return 0;
  return fs.fchmod(fd, (perms.dir_mode & 0777) | (st.st_mode & S_ISGID));
}

// mkdir `name` in `parent` (EEXIST is fine: a concurrent delivery made it), open it without
// following symlinks, hand it to the user, make the new entry durable.
DirResult make_level(Fs& fs, int parent, const std::string& name, const std::string& what,
                     const Perms& perms) {
  int r = fs.mkdir_at(parent, name.c_str(), perms.dir_mode);
  bool made = r == 0;
  if (r < 0 && r != -EEXIST) return fail_errno(r, "mkdir(" + what + ")");
  int fd = fs.open_at(parent, name.c_str(), kDirFlags | O_NOFOLLOW, 0);
  if (fd < 0) return fail_errno(fd, "open(" + what + ")");
  FsFd dir(fs, fd);
  if (made && perms.chown) {
    if (int c = fs.fchown(fd, perms.uid, perms.gid); c < 0) return fail_errno(c, "fchown(" + what + ")");
  }
  if (made) {
    if (int m = apply_dir_mode(fs, fd, perms); m < 0) return fail_errno(m, "chmod(" + what + ")");
  }
  if (made && perms.sync_dirs) {
    if (int s = fs.fsync(parent); s < 0) return fail_errno(s, "fsync(parent of " + what + ")");
  }
  return dir;
}

}  // namespace

int apply_file_mode(Fs& fs, int fd, const Perms& perms) {
  if ((perms.file_mode & 077) == 0) return 0;
  return fs.fchmod(fd, perms.file_mode & 0777);
}

DirResult open_or_create_path(Fs& fs, const std::string& path, const Perms& perms, bool* created) {
  if (created != nullptr) *created = false;
  int fd = fs.open_at(AT_FDCWD, path.c_str(), kDirFlags, 0);
  if (fd >= 0) return FsFd(fs, fd);
  if (fd != -ENOENT) return fail_errno(fd, "open(" + path + ")");
  // Walk up to the deepest existing ancestor, then create downwards.
  std::vector<std::string> missing;
  std::string prefix = path;
  FsFd parent;
  for (;;) {
    auto slash = prefix.rfind('/');
    if (slash == std::string::npos) return fail_errno(-ENOENT, "open(" + path + ")");
    missing.push_back(prefix.substr(slash + 1));
    prefix.resize(slash);
    std::string open_path = prefix.empty() ? "/" : prefix;
    int pfd = fs.open_at(AT_FDCWD, open_path.c_str(), kDirFlags, 0);
    if (pfd >= 0) {
      parent = FsFd(fs, pfd);
      break;
    }
    if (pfd != -ENOENT) return fail_errno(pfd, "open(" + open_path + ")");
  }
  std::string so_far = prefix;
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    if (it->empty()) continue;  // "//" in the path
    so_far += "/" + *it;
    auto next = make_level(fs, parent.get(), *it, so_far, perms);
    if (!next) return next;
    parent = std::move(*next);
  }
  if (created != nullptr) *created = true;
  return parent;
}

DirResult open_below(Fs& fs, int dir, std::string_view rel, const std::string& what,
                     const Perms& perms, bool create) {
  FsFd current;
  int at = dir;
  size_t start = 0;
  while (start <= rel.size()) {
    auto slash = rel.find('/', start);
    std::string level(rel.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
    start = slash == std::string_view::npos ? rel.size() + 1 : slash + 1;
    int fd = fs.open_at(at, level.c_str(), kDirFlags | O_NOFOLLOW, 0);
    if (fd >= 0) {
      current = FsFd(fs, fd);
    } else if (fd == -ENOENT && create) {
      auto made = make_level(fs, at, level, what, perms);
      if (!made) return made;
      current = std::move(*made);
    } else {
      return fail_errno(fd, "open(" + what + ")");
    }
    at = current.get();
  }
  return current;
}

base::Expected<void, SaveError> create_marker_file(Fs& fs, int dir, const char* name,
                                                   const std::string& what, const Perms& perms) {
  int fd = fs.open_at(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, perms.file_mode);
  if (fd == -EEXIST) return {};
  if (fd < 0) return fail_errno(fd, "create(" + what + ")");
  FsFd file(fs, fd);
  if (perms.chown) {
    if (int c = fs.fchown(fd, perms.uid, perms.gid); c < 0) return fail_errno(c, "fchown(" + what + ")");
  }
  if (int m = apply_file_mode(fs, fd, perms); m < 0) return fail_errno(m, "chmod(" + what + ")");
  return {};
}

}  // namespace dovetail::storage
