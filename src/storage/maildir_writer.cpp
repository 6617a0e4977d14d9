#include "storage/maildir_writer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <cerrno>

#include "storage/direct_write.hpp"
#include "storage/folder_name.hpp"
#include "storage/maildir_dirs.hpp"
#include "storage/subscriptions.hpp"
#include "storage/unique_name.hpp"
#include "storage/write_all.hpp"

namespace dovetail::storage {

namespace {

constexpr int kCreateAttempts = 5;
constexpr size_t kCopyChunk = 128 * 1024;
constexpr size_t kMaxCopyRange = size_t{1} << 30;

using Fail = base::Unexpected<SaveError>;

Fail fail_errno(int64_t neg, const std::string& what) {
  return Fail(classify_errno(static_cast<int>(-neg), what));
}

// new/ of an open box: its own descriptor, or one shared with RecentDirs.
struct NewDirFd {
  std::shared_ptr<const FsFd> fd;
  int get() const { return fd ? fd->get() : -1; }
};

// One opened Maildir (INBOX or a folder) of one target.
struct OpenBox {
  FsFd dir;  // the Maildir directory itself (kept for a late open of tmp/)
  FsFd tmp;  // opened only when O_TMPFILE is unsupported
  NewDirFd neu;
  std::string vname;
  std::string path;  // the Maildir directory (holds cur/new/tmp)
  Perms perms;
  bool created = false;
  std::string warning;
};

// The effective ids are read once per process (each costs a syscall per delivery): a
// process that saves mail never changes them after its first save — the daemon drops
// privileges before it serves, and the privileged writer and the LDA are exec'd.
uid_t own_euid() {
  static const uid_t id = ::geteuid();
  return id;
}

gid_t own_egid() {
  static const gid_t id = ::getegid();
  return id;
}

base::Expected<Perms, SaveError> owner_perms(const UserTarget& user, FsyncMode mode, Ownership ownership) {
  Perms p;
  p.uid = user.uid;
  p.gid = user.gid;
  p.creator_gid = user.gid;
  p.sync_dirs = mode != FsyncMode::kNever;
  if (own_euid() == 0) {
    if (user.uid == 0) return Fail(temp_error("refusing to write mail for " + user.user + " as uid 0"));
    p.chown = ownership == Ownership::kChownIfRoot;
  } else if (user.uid != own_euid() || user.gid != own_egid()) {
    return Fail(temp_error("cannot write mail for " + user.user + " as uid " + std::to_string(user.uid) +
                           "/gid " + std::to_string(user.gid) + ": process runs as uid " +
                           std::to_string(own_euid()) + "/gid " + std::to_string(own_egid()) +
                           " without root"));
  }
  return p;
}

// Dovecot derives new files' modes (and a setgid group) from the mail root's permissions.
// A root that cannot be stat'ed is a temporary failure: guessed modes could expose mail.
void derive_perms(const struct stat& st, Perms& p) {
  p.dir_mode = st.st_mode & (0777 | S_ISGID);
  p.file_mode = st.st_mode & 0666;
  if ((st.st_mode & S_ISGID) != 0) p.gid = st.st_gid;
}

base::Expected<void, SaveError> derive_perms(Fs& fs, int root_fd, const std::string& root, Perms& p) {
  struct stat st {};
  if (int r = fs.fstat(root_fd, &st); r != 0) return fail_errno(r < 0 ? r : -EIO, "fstat(" + root + ")");
  derive_perms(st, p);
  return {};
}

// An INBOX that exists, the hot path: its root is only stat'ed (for the modes) and new/ is
// opened by path — two system calls fewer than opening the root to work below it — or both
// come from `recent`, opened in the last second. The root's fd is opened later only if
// tmp/ is needed. nullopt (nothing failed): a level is missing, and the caller's full path
// creates it.
base::Expected<std::optional<OpenBox>, SaveError> open_existing_inbox(Fs& fs, const std::string& root,
                                                                      const std::string& vname, const Perms& perms,
                                                                      RecentDirs* recent) {
  OpenBox box;
  box.perms = perms;
  box.vname = vname;
  box.path = root;
  const auto now = recent != nullptr ? RecentDirs::Clock::now() : RecentDirs::Clock::time_point{};
  if (recent != nullptr) {
    if (auto hit = recent->find(root, perms.uid, perms.gid, now)) {
      derive_perms(hit->root, box.perms);
      box.neu.fd = std::move(hit->neu);
      return std::optional<OpenBox>(std::move(box));
    }
  }
  struct stat st {};
  if (int r = fs.stat_at(AT_FDCWD, root.c_str(), &st); r != 0) {
    if (r == -ENOENT) return std::optional<OpenBox>();
    return fail_errno(r < 0 ? r : -EIO, "stat(" + root + ")");
  }
  if (!S_ISDIR(st.st_mode)) return std::optional<OpenBox>();  // the full path reports it
  derive_perms(st, box.perms);
  const std::string neu = root + "/new";
  int fd = fs.open_at(AT_FDCWD, neu.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW, 0);
  if (fd == -ENOENT) return std::optional<OpenBox>();
  if (fd < 0) return fail_errno(fd, "open(" + neu + ")");
  box.neu.fd = std::make_shared<const FsFd>(fs, fd);
  if (recent != nullptr) recent->put(root, perms.uid, perms.gid, {box.neu.fd, st}, now);
  return std::optional<OpenBox>(std::move(box));
}

// Only new/ is opened on the hot path: the message is created anonymous in it (see
// create_anonymous); tmp/ is opened only for the classic fallback. A Maildir without new/
// gets all three of cur/, new/ and tmp/, as readers expect them.
base::Expected<void, SaveError> ensure_subdirs(Fs& fs, OpenBox& box, int box_fd) {
  auto neu = open_below(fs, box_fd, "new", box.path + "/new", box.perms, false);
  if (!neu && neu.error().sys_errno == ENOENT) {
    for (const char* sub : {"cur", "new", "tmp"}) {
      auto made = open_below(fs, box_fd, sub, box.path + "/" + sub, box.perms, true);
      if (!made) return Fail(made.error());
    }
    neu = open_below(fs, box_fd, "new", box.path + "/new", box.perms, false);
  }
  if (!neu) return Fail(neu.error());
  box.neu.fd = std::make_shared<const FsFd>(std::move(*neu));
  return {};
}

base::Expected<void, SaveError> open_tmp(Fs& fs, OpenBox& box) {
  if (box.tmp.valid()) return {};
  if (!box.dir.valid()) {  // open_existing_inbox did not need it
    int fd = fs.open_at(AT_FDCWD, box.path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (fd < 0) return fail_errno(fd, "open(" + box.path + ")");
    box.dir = FsFd(fs, fd);
  }
  auto tmp = open_below(fs, box.dir.get(), "tmp", box.path + "/tmp", box.perms, false);
  if (!tmp) return Fail(tmp.error());
  box.tmp = std::move(*tmp);
  return {};
}

base::Expected<OpenBox, SaveError> open_box(Fs& fs, const UserTarget& user, const MailboxRequest& req, Ownership ownership,
                                            FsyncMode mode, RecentDirs* recent) {
  auto perms = owner_perms(user, mode, ownership);
  if (!perms) return Fail(perms.error());
  const MailLocation& loc = user.location;
  FolderPath folder = resolve_folder(req.name, loc.layout);
  if (folder.inbox) {
    auto existing = open_existing_inbox(fs, loc.inbox, folder.vname, *perms, recent);
    if (!existing) return Fail(existing.error());
    if (*existing) return std::move(**existing);
  }
  for (;;) {
    OpenBox box;
    box.perms = *perms;
    box.vname = folder.vname;
    const std::string& base_path = folder.inbox ? loc.inbox : loc.root;
    bool created_root = false;
    auto root = open_or_create_path(fs, base_path, box.perms, &created_root);
    if (!root) return Fail(root.error());
    if (!created_root) {
      if (auto derived = derive_perms(fs, root->get(), base_path, box.perms); !derived) return Fail(derived.error());
    }
    if (created_root && !folder.inbox && loc.inbox == loc.root) {
      // A new mail root gets INBOX's cur/new/tmp too, as Dovecot makes it: INBOX always exists.
      OpenBox inbox;
      inbox.perms = box.perms;
      inbox.path = base_path;
      if (auto made = ensure_subdirs(fs, inbox, root->get()); !made) return Fail(made.error());
    }
    box.path = base_path;
    FsFd folder_fd;
    int box_fd = root->get();
    if (!folder.inbox) {
      box.path += "/" + folder.dir;
      auto opened = open_below(fs, root->get(), folder.dir, box.path, box.perms, false);
      if (!opened && opened.error().sys_errno == ENOENT) {
        if (req.if_missing == MissingMailbox::kUseInbox) {
          folder = FolderPath{};
          continue;
        }
        if (req.if_missing == MissingMailbox::kFail) {
          SaveError e;
          e.kind = SaveError::Kind::kMailboxNotFound;
          e.enhanced = "5.2.0";
          e.log_reason = "Mailbox doesn't exist: " + folder.vname;
          return Fail(std::move(e));
        }
        opened = open_below(fs, root->get(), folder.dir, box.path, box.perms, true);
        box.created = true;
      }
      if (!opened) return Fail(opened.error());
      folder_fd = std::move(*opened);
      box_fd = folder_fd.get();
      if (box.created && loc.layout == Layout::kMaildirPlusPlus) {
        auto marker = create_marker_file(fs, box_fd, "maildirfolder", box.path + "/maildirfolder", box.perms);
        if (!marker) return Fail(marker.error());
      }
    }
    if (auto sub = ensure_subdirs(fs, box, box_fd); !sub) return Fail(sub.error());
    if (box.created && req.if_missing == MissingMailbox::kCreateAndSubscribe) {
      auto control = open_or_create_path(fs, loc.control, box.perms, nullptr);
      auto added = control ? add_subscription(fs, control->get(), loc.control, folder.subscription, box.perms)
                           : base::Expected<void, SaveError>(Fail(control.error()));
      if (!added) box.warning = "autosubscribe failed: " + added.error().log_reason;
    }
    box.dir = folder_fd.valid() ? std::move(folder_fd) : std::move(*root);
    return box;
  }
}

base::Expected<void, SaveError> copy_body(Fs& fs, const Body& body, int out, const std::string& what) {
  if (body.fd < 0) return write_all(fs, out, body.memory.data(), body.memory.size(), what);
  uint64_t off = 0;
  bool use_copy_range = true;
  std::string buf;
  while (off < body.size) {
    uint64_t left = body.size - off;
    if (use_copy_range) {
      int64_t n = fs.copy_range(body.fd, off, out, static_cast<size_t>(std::min<uint64_t>(left, kMaxCopyRange)));
      if (n == -EXDEV || n == -EINVAL || n == -ENOSYS || n == -EOPNOTSUPP) {
        use_copy_range = false;  // e.g. spool and Maildir on different filesystems: plain reads
        continue;
      }
      if (n < 0) return fail_errno(n, "copy_file_range(" + what + ")");
      if (n == 0) return fail_errno(-EIO, "copy_file_range(" + what + "): spool shorter than its size");
      off += static_cast<uint64_t>(n);
      continue;
    }
    if (buf.empty()) buf.resize(kCopyChunk);
    int64_t n = fs.pread(body.fd, buf.data(), static_cast<size_t>(std::min<uint64_t>(left, buf.size())), off);
    if (n < 0) return fail_errno(n, "read(spool for " + what + ")");
    if (n == 0) return fail_errno(-EIO, "read(spool for " + what + "): shorter than its size");
    if (auto w = write_all(fs, out, buf.data(), static_cast<size_t>(n), what); !w) return w;
    off += static_cast<uint64_t>(n);
  }
  return {};
}

// The file is created anonymous (O_TMPFILE, in new/ itself): it has no name until its
// bytes are synced, so a crash can never leave it visible — readdir never lists an unnamed
// inode — and tmp/ is neither opened nor modified. On journal-less ext4, fsync of a newly
// *named* file also writes its parent directory synchronously, and each tmp/ entry is
// created and removed again (bench/fsync_limit --tmpfile: ~20 % less CPU per delivery).
// Filesystems without O_TMPFILE get the classic named tmp/ file and a rename.
int create_anonymous(Fs& fs, const OpenBox& box) {
  int fd = fs.open_at(box.neu.get(), ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, box.perms.file_mode);
  if (fd == -EOPNOTSUPP || fd == -EISDIR || fd == -EINVAL || fd == -ENOSYS) return -EOPNOTSUPP;
  return fd;
}

// tmp/ → write → fsync → new/<base>,S=,W=. Returns the name in new/. On failure nothing is
// left in tmp/ and nothing was published.
base::Expected<std::string, SaveError> write_copy(Fs& fs, OpenBox& box, const Body& body,
                                                   std::string_view headers, uint64_t size, uint64_t vsize,
                                                   FsyncMode mode) {
  std::string base;
  int fd = create_anonymous(fs, box);
  const bool anonymous = fd != -EOPNOTSUPP;
  if (!anonymous) {
    if (auto t = open_tmp(fs, box); !t) return Fail(t.error());
    fd = -EEXIST;
    for (int attempt = 0; attempt < kCreateAttempts && fd == -EEXIST; ++attempt) {
      base = next_unique_base();
      fd = fs.open_at(box.tmp.get(), base.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                      box.perms.file_mode);
    }
  }
  const std::string tmp_what = box.path + "/tmp/" + (anonymous ? std::string("(anonymous)") : base);
  if (fd < 0) return fail_errno(fd, "open(" + tmp_what + ")");
  FsFd file(fs, fd);
  auto abort_with = [&](SaveError e) -> base::Expected<std::string, SaveError> {
    file.reset();
    if (!anonymous) fs.unlink_at(box.tmp.get(), base.c_str());
    return Fail(std::move(e));
  };
  if (box.perms.chown) {
    if (int c = fs.fchown(fd, box.perms.uid, box.perms.gid); c < 0)
      return abort_with(classify_errno(-c, "fchown(" + tmp_what + ")"));
  }
  if (int m = apply_file_mode(fs, fd, box.perms); m < 0)
    return abort_with(classify_errno(-m, "chmod(" + tmp_what + ")"));
  if (mode != FsyncMode::kNever && direct_write_suits(fs, fd, headers.size() + body.size)) {
    if (auto w = write_direct(fs, fd, headers, body, tmp_what); !w) return abort_with(w.error());
  } else if (body.fd < 0 && !headers.empty()) {
    // One write instead of two: a syscall costs more than copying a spooled-in-memory body.
    std::string whole;
    whole.reserve(headers.size() + body.memory.size());
    whole.append(headers).append(body.memory);
    if (auto w = write_all(fs, fd, whole.data(), whole.size(), tmp_what); !w) return abort_with(w.error());
  } else {
    if (auto w = write_all(fs, fd, headers.data(), headers.size(), tmp_what); !w) return abort_with(w.error());
    if (auto c = copy_body(fs, body, fd, tmp_what); !c) return abort_with(c.error());
  }
  if (mode != FsyncMode::kNever) {
    if (int s = fs.fsync(fd); s < 0) return abort_with(classify_errno(-s, "fsync(" + tmp_what + ")"));
  }
  if (anonymous) {
    // The unique name is taken only now: its time is the moment the mail becomes visible.
    std::string final_name;
    int r = -EEXIST;
    for (int attempt = 0; attempt < kCreateAttempts && r == -EEXIST; ++attempt) {
      final_name = with_sizes(next_unique_base(), size, vsize);
      r = fs.link_file(fd, box.neu.get(), final_name.c_str());
    }
    if (r < 0) return abort_with(classify_errno(-r, "link(" + tmp_what + " -> new/)"));
    // The name is durable once new/ is synced (save_batch); the close cannot lose data
    // that fsync already wrote, but a failure still means something is wrong: report it.
    if (int c = fs.close(file.release()); c < 0) {
      fs.unlink_at(box.neu.get(), final_name.c_str());
      return fail_errno(c, "close(" + tmp_what + ")");
    }
    return final_name;
  }
  if (int c = fs.close(file.release()); c < 0) {
    fs.unlink_at(box.tmp.get(), base.c_str());
    return fail_errno(c, "close(" + tmp_what + ")");
  }
  std::string final_name = with_sizes(base, size, vsize);
  if (int r = fs.rename_at(box.tmp.get(), base.c_str(), box.neu.get(), final_name.c_str()); r < 0) {
    fs.unlink_at(box.tmp.get(), base.c_str());
    return fail_errno(r, "rename(" + tmp_what + " -> new/)");
  }
  if (mode == FsyncMode::kAlways) {
    if (int s = fs.fsync(box.tmp.get()); s < 0) {
      fs.unlink_at(box.neu.get(), final_name.c_str());
      return fail_errno(s, "fsync(" + box.path + "/tmp)");
    }
  }
  return final_name;
}

// The distinct new/ directories holding a saved copy, in target order.
struct DirToSync {
  size_t first;  // a target whose box holds the directory's fd; its path names the Maildir
  bool synced = false;
};

// Makes the links of this batch durable: new/ directories sharing a filesystem with at
// least kSharedSyncMinDirs-1 others get one SharedSync; the rest, and any whose shared
// sync failed, their own fsync. A directory that cannot be synced takes its copies back.
void sync_new_dirs(Fs& fs, SharedSync& shared, std::vector<OpenBox>& boxes, const std::vector<std::string>& names,
                   const std::vector<size_t>& copy_of, std::vector<SaveResult>& results) {
  std::vector<DirToSync> dirs;
  dirs.reserve(results.size());
  for (size_t i = 0; i < results.size(); ++i) {
    if (!results[i]) continue;
    const auto same_maildir = [&](const DirToSync& d) { return boxes[d.first].path == boxes[i].path; };
    if (std::none_of(dirs.begin(), dirs.end(), same_maildir)) dirs.push_back({i});
  }
  if (dirs.size() >= MaildirWriter::kSharedSyncMinDirs) {
    std::map<dev_t, std::vector<size_t>> by_dev;
    std::map<size_t, std::optional<dev_t>> dev_of_source;  // one fstat per written copy
    for (size_t k = 0; k < dirs.size(); ++k) {
      const size_t source = copy_of[dirs[k].first];
      auto [known, fresh] = dev_of_source.try_emplace(source);
      if (fresh) {
        struct stat st {};
        if (fs.fstat(boxes[source].neu.get(), &st) == 0) known->second = st.st_dev;
      }
      if (known->second) by_dev[*known->second].push_back(k);
    }
    for (const auto& [dev, members] : by_dev) {
      if (members.size() < MaildirWriter::kSharedSyncMinDirs) continue;
      if (shared.sync(fs, boxes[dirs[members.front()].first].neu.get(), dev) != 0) continue;  // fsync each below
      for (size_t k : members) dirs[k].synced = true;
    }
  }
  for (const auto& d : dirs) {
    if (d.synced) continue;
    int s = fs.fsync(boxes[d.first].neu.get());
    if (s == 0) continue;
    const std::string& root = boxes[d.first].path;
    SaveError err = classify_errno(-s, "fsync(" + root + "/new)");
    for (size_t j = d.first; j < results.size(); ++j) {
      if (results[j] && boxes[j].path == root) {
        fs.unlink_at(boxes[j].neu.get(), names[j].c_str());
        results[j] = Fail(err);
      }
    }
  }
}

}  // namespace

base::Result<FsyncMode> parse_fsync_mode(std::string_view setting) {
  if (setting == "optimized") return FsyncMode::kOptimized;
  if (setting == "always") return FsyncMode::kAlways;
  if (setting == "never") return FsyncMode::kNever;
  return base::fail(base::Error::config("mail_fsync: invalid value '" + std::string(setting) +
                                        "' (optimized, always or never)"));
}

SaveResult MaildirWriter::save(const Body& body, std::string_view headers, const UserTarget& user,
                               const MailboxRequest& mailbox) const {
  SaveTarget target{&user, mailbox};
  auto results = save_batch(body, headers, std::span<const SaveTarget>(&target, 1));
  return std::move(results.front());
}

std::vector<SaveResult> MaildirWriter::save_batch(const Body& body, std::string_view headers,
                                                  std::span<const SaveTarget> targets) const {
  Fs& fs = *fs_;
  const uint64_t size = headers.size() + body.size;
  const uint64_t vsize = crlf_size(headers) + body.size + body.line_feeds;
  std::vector<SaveResult> results;
  std::vector<OpenBox> boxes(targets.size());
  std::vector<std::string> names(targets.size());
  std::vector<size_t> sources;  // indexes of targets holding a written copy
  // The target whose file each copy is (itself when written, else the one it links to): a
  // hard link exists only within one mounted filesystem, so a linked copy's new/ shares its
  // source's filesystem and needs no fstat to know it.
  std::vector<size_t> copy_of(targets.size());
  results.reserve(targets.size());

  for (size_t i = 0; i < targets.size(); ++i) {
    auto opened = open_box(fs, *targets[i].user, targets[i].mailbox, ownership_, mode_, recent_);
    if (!opened) {
      results.emplace_back(Fail(opened.error()));
      continue;
    }
    boxes[i] = std::move(*opened);
    OpenBox& box = boxes[i];
    Saved saved;
    saved.mailbox = box.vname;
    saved.created_mailbox = box.created;
    saved.warning = box.warning;
    // Identical bytes for the same owner and mode: a hard link, as Dovecot's
    // maildir_copy_with_hardlinks does. Another filesystem (EXDEV), too many links, or a
    // source already moved to cur/ by a reader just means this copy is written itself.
    auto src = std::find_if(sources.begin(), sources.end(), [&](size_t s) {
      const Perms& p = boxes[s].perms;
      return p.uid == box.perms.uid && p.gid == box.perms.gid && p.file_mode == box.perms.file_mode;
    });
    if (copies_ == CopyMode::kHardLink && src != sources.end()) {
      std::string name = with_sizes(next_unique_base(), size, vsize);
      int r = fs.link_at(boxes[*src].neu.get(), names[*src].c_str(), box.neu.get(), name.c_str());
      if (r == 0) {
        names[i] = name;
        copy_of[i] = *src;
        saved.hard_link = true;
        saved.path = box.path + "/new/" + name;
        results.emplace_back(std::move(saved));
        continue;
      }
      if (r != -EXDEV && r != -EMLINK && r != -ENOENT && r != -EPERM) {
        results.emplace_back(fail_errno(r, "link(" + box.path + "/new/" + name + ")"));
        continue;
      }
    }
    auto written = write_copy(fs, box, body, headers, size, vsize, mode_);
    if (!written) {
      results.emplace_back(Fail(written.error()));
      continue;
    }
    names[i] = *written;
    saved.path = box.path + "/new/" + names[i];
    copy_of[i] = i;
    sources.push_back(i);
    results.emplace_back(std::move(saved));
  }

  // Durability of the directory entries, once per distinct new/; only then Saved.
  if (mode_ != FsyncMode::kNever) sync_new_dirs(fs, *shared_sync_, boxes, names, copy_of, results);
  return results;
}

}  // namespace dovetail::storage
