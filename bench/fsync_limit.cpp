// fsync_limit — the physical ceiling for durable Maildir deliveries on one filesystem.
//
// Purpose: measures how many "create tmp file + write N bytes + fsync + rename into new/ +
// fsync new/" sequences per second the filesystem under --dir sustains, with 1 and with
// 64 threads (each thread its own tmp/ + new/, like separate mailboxes). --tmpfile does the
// same with an anonymous file (O_TMPFILE in tmp/, linked into new/), as Dovetail's writer
// does; both print the process's CPU per sequence (getrusage), the floor a server pays, and the
// whole machine's (/proc/stat: kernel flusher threads included). No LMTP server can
// durably deliver faster than this; bench/run prints it beside the servers' figures.
// --links N (with --tmpfile): one file per sequence, linked into N mailboxes' new/ (a message
// for N recipients); each new/ is fsynced, or with --shared-sync all N are covered by
// Dovetail's own storage::SharedSync (one syncfs + flush shared by the threads; decision 0009).
// --one-box puts every thread into one Maildir; --dir-group then shares the new/ fsyncs of
// concurrent deliveries (a group commit of one directory).
// Output: one JSON object on stdout. Files are never deleted while measuring (mass deletes
// slow later inode allocation on journal-less ext4); they stay until --dir is removed.
// Depends on: std + POSIX, and dovetail_storage for --shared-sync. Not part of the server:
// errors go to stderr, exit 1.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <memory>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "storage/shared_sync.hpp"

namespace {

struct Options {
  std::string dir;
  std::vector<int> threads{1, 64};
  double seconds = 3.0;
  size_t size = 4096;
  bool tmpfile = false;
  int links = 1;
  bool shared_sync = false;
  bool dir_datasync = false;
  bool direct = false;
  bool group_commit = false;
};

// --dir-datasync: new/ made durable with fdatasync (as Dovecot does), which skips the
// directory inode's time stamps; its entries and, when it grew, its size are still written.
bool g_dir_datasync = false;
int sync_dir(int fd) { return g_dir_datasync ? ::fdatasync(fd) : ::fsync(fd); }

// --direct: the file's whole 4 KiB blocks are written with O_DIRECT, 256 KiB per write(), the
// last partial block through the page cache — what Dovetail's writer does from 16 KiB on
// (storage/direct_write.hpp). `payload` must be 4096-aligned in memory.
bool g_direct = false;

// --group-commit: neither the file nor new/ gets its own fsync. The file is written, then a
// shared filesystem sync (storage::SharedSync: syncfs + flush, run by one caller for all who
// wait) makes it durable, then it is linked, then a second shared sync makes the link
// durable: two shared passes per delivery instead of two private fsync chains.
bool g_group_commit = false;

// --one-box: every thread delivers into the same Maildir (the `hot` workload's shape: one
// mailbox receiving from 16 sessions) instead of one each.
bool g_one_box = false;

// --dir-group (with --one-box): the new/ fsyncs of concurrent deliveries are shared. A caller
// needs an fsync of new/ that *starts after* its link; it runs one itself when none is
// running, else it sleeps until the running one ends and the next one (led by one of the
// waiters) has completed — a group commit of one directory.
struct DirGroup {
  std::mutex mutex;
  std::condition_variable cv;
  uint64_t started = 0;
  uint64_t done = 0;
  bool running = false;
  uint64_t failed_upto = 0;  // the latest finished fsync that failed
} g_dir_group_state;
bool g_dir_group = false;

int group_sync_dir(int fd) {
  DirGroup& g = g_dir_group_state;
  std::unique_lock lock(g.mutex);
  const uint64_t need = g.started + 1;  // the next fsync to start covers this caller's link
  while (g.done < need) {
    if (g.running) {
      g.cv.wait(lock);
      continue;
    }
    g.running = true;
    const uint64_t mine = ++g.started;
    lock.unlock();
    const int r = ::fsync(fd);
    lock.lock();
    g.done = mine;
    if (r != 0) g.failed_upto = mine;
    g.running = false;
    g.cv.notify_all();
  }
  return g.failed_upto >= need ? -1 : 0;
}

bool write_payload(int fd, std::string_view payload) {
  if (!g_direct) return ::write(fd, payload.data(), payload.size()) == static_cast<ssize_t>(payload.size());
  const size_t aligned = payload.size() & ~size_t{4095};
  if (aligned > 0 && ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_DIRECT) != 0) return false;
  for (size_t off = 0; off < aligned;) {
    const size_t n = std::min<size_t>(256 * 1024, aligned - off);
    if (::write(fd, payload.data() + off, n) != static_cast<ssize_t>(n)) return false;
    off += n;
  }
  if (aligned == payload.size()) return true;
  if (::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_DIRECT) != 0) return false;
  const size_t tail = payload.size() - aligned;
  return ::write(fd, payload.data() + aligned, tail) == static_cast<ssize_t>(tail);
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "fsync_limit: %s: %s\n", what.c_str(), std::strerror(errno));
  std::exit(1);
}

void make_dir(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) die("mkdir " + path);
}

// One worker: its own maildir-like pair of directories; counts completed deliveries.
// An O_TMPFILE file has no name in tmp/ (nothing to create, sync or remove there); linkat
// gives it its name in new/ only once its bytes are on disk.
bool deliver_anonymous(int tmp_fd, int new_fd, const std::string& name, std::string_view payload) {
  const int fd = ::openat(tmp_fd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  const std::string proc = "/proc/self/fd/" + std::to_string(fd);
  const bool ok = write_payload(fd, payload) && ::fsync(fd) == 0 &&
                  (::linkat(fd, "", new_fd, name.c_str(), AT_EMPTY_PATH) == 0 ||
                   ::linkat(AT_FDCWD, proc.c_str(), new_fd, name.c_str(), AT_SYMLINK_FOLLOW) == 0);
  return ::close(fd) == 0 && ok && (g_dir_group ? group_sync_dir(new_fd) : sync_dir(new_fd)) == 0;
}

// One file into every new/ of new_fds: written and synced once, linked into each, then the
// directories made durable one fsync each or by one shared filesystem sync.
bool deliver_linked(const std::vector<int>& new_fds, const std::string& name, std::string_view payload,
                    bool shared) {
  const int fd = ::openat(new_fds[0], ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  // The filesystem's id, only where a shared sync needs it: the plain chain stays as it was.
  struct stat st {};
  bool ok = write_payload(fd, payload) && (!(shared || g_group_commit) || ::fstat(new_fds[0], &st) == 0);
  if (ok && g_group_commit)
    ok = dovetail::storage::SharedSync::process().sync(dovetail::storage::real_fs(), new_fds[0], st.st_dev) == 0;
  else if (ok)
    ok = ::fsync(fd) == 0;
  for (size_t i = 0; ok && i < new_fds.size(); ++i)
    ok = ::linkat(fd, "", new_fds[i], name.c_str(), AT_EMPTY_PATH) == 0;
  ok = ::close(fd) == 0 && ok;
  if (!ok) return false;
  if (shared) {
    return dovetail::storage::SharedSync::process().sync(dovetail::storage::real_fs(), new_fds[0], st.st_dev) == 0;
  }
  for (int d : new_fds)
    if (sync_dir(d) != 0) return false;
  return true;
}

void worker(const std::string& root, int id, std::string_view payload, const std::atomic<bool>& stop,
            std::atomic<long>& done, std::atomic<bool>& failed, bool anonymous, int links, bool shared) {
  const std::string box = root + "/" + (g_one_box ? std::string("0") : std::to_string(id));
  make_dir(box);
  make_dir(box + "/tmp");
  make_dir(box + "/new");
  const int new_fd = ::open((box + "/new").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  const int tmp_fd = ::open((box + "/tmp").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (new_fd < 0 || tmp_fd < 0) die("open new/ or tmp/");
  std::vector<int> new_fds{new_fd};
  for (int k = 1; k < links; ++k) {
    const std::string other = box + "-" + std::to_string(k);
    make_dir(other);
    make_dir(other + "/new");
    new_fds.push_back(::open((other + "/new").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (new_fds.back() < 0) die("open " + other + "/new");
  }
  long n = 0;
  while (!stop.load(std::memory_order_relaxed)) {
    const std::string name = std::to_string(id) + "." + std::to_string(n);
    if (anonymous) {
      if (!(links > 1 || shared ? deliver_linked(new_fds, name, payload, shared)
                                : deliver_anonymous(tmp_fd, new_fd, name, payload))) {
        std::perror("fsync_limit: delivery (O_TMPFILE)");
        failed = true;
        break;
      }
      ++n;
      done.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    const std::string tmp = box + "/tmp/" + name;
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 || ::write(fd, payload.data(), payload.size()) != static_cast<ssize_t>(payload.size()) ||
        ::fsync(fd) != 0 || ::close(fd) != 0 || ::rename(tmp.c_str(), (box + "/new/" + name).c_str()) != 0 ||
        sync_dir(new_fd) != 0) {
      std::perror("fsync_limit: delivery");
      failed = true;
      break;
    }
    ++n;
    done.fetch_add(1, std::memory_order_relaxed);
  }
  for (int d : new_fds) ::close(d);
  ::close(tmp_fd);
}

long voluntary_switches() {
  struct rusage ru {};
  ::getrusage(RUSAGE_SELF, &ru);
  return ru.ru_nvcsw;
}

double cpu_seconds() {
  struct rusage ru {};
  ::getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// All cores' busy time (user, nice, system, irq, softirq), in seconds.
double machine_busy_seconds() {
  std::FILE* f = std::fopen("/proc/stat", "r");
  if (f == nullptr) return 0;
  unsigned long long v[7] = {};
  const int got = std::fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4],
                              &v[5], &v[6]);
  std::fclose(f);
  if (got != 7) return 0;
  return static_cast<double>(v[0] + v[1] + v[2] + v[5] + v[6]) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

double measure(const Options& opt, int threads, long& ops, double& cpu, double& machine, long& switches) {
  const std::string root = opt.dir + (opt.tmpfile ? "/a" : "/t") + std::to_string(threads) + "x" +
                           std::to_string(opt.links) + (opt.shared_sync ? "s" : "") +
                           (opt.dir_datasync ? "d" : "") + (opt.direct ? "o" : "") + (opt.group_commit ? "g" : "") +
                           (g_one_box ? "1" : "") + (g_dir_group ? "G" : "");
  make_dir(root);
  // 4096-aligned storage for --direct: a string's own buffer has no such guarantee.
  struct AlignedFree {
    void operator()(char* p) const { std::free(p); }
  };
  std::unique_ptr<char, AlignedFree> aligned(static_cast<char*>(std::aligned_alloc(4096, (opt.size + 4095) & ~size_t{4095})));
  std::memset(aligned.get(), 'x', opt.size);
  const std::string_view payload(aligned.get(), opt.size);
  std::atomic<bool> stop{false}, failed{false};
  std::atomic<long> done{0};
  std::vector<std::thread> pool;
  const auto t0 = std::chrono::steady_clock::now();
  const double cpu0 = cpu_seconds();
  const double busy0 = machine_busy_seconds();
  const long switches0 = voluntary_switches();
  for (int i = 0; i < threads; ++i)
    pool.emplace_back(worker, root, i, payload, std::cref(stop), std::ref(done), std::ref(failed),
                      opt.tmpfile, opt.links, opt.shared_sync);
  std::this_thread::sleep_for(std::chrono::duration<double>(opt.seconds));
  stop = true;
  for (auto& t : pool) t.join();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (failed) std::exit(1);
  ops = done.load();
  cpu = cpu_seconds() - cpu0;
  machine = machine_busy_seconds() - busy0;
  switches = voluntary_switches() - switches0;
  return static_cast<double>(ops) / secs;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--dir" && has_value) {
      opt.dir = argv[++i];
    } else if (a == "--seconds" && has_value) {
      opt.seconds = std::atof(argv[++i]);
    } else if (a == "--size" && has_value) {
      opt.size = static_cast<size_t>(std::atol(argv[++i]));
    } else if (a == "--tmpfile") {
      opt.tmpfile = true;
    } else if (a == "--links" && has_value) {
      opt.links = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--shared-sync") {
      opt.shared_sync = true;
    } else if (a == "--dir-datasync") {
      opt.dir_datasync = true;
    } else if (a == "--direct") {
      opt.direct = true;
    } else if (a == "--group-commit") {
      opt.group_commit = true;
    } else if (a == "--one-box") {
      g_one_box = true;
    } else if (a == "--dir-group") {
      g_dir_group = g_one_box = true;
    } else if (a == "--threads" && has_value) {
      opt.threads.clear();
      for (const char* p = argv[++i]; *p != '\0';) {
        char* end = nullptr;
        opt.threads.push_back(static_cast<int>(std::strtol(p, &end, 10)));
        p = (*end == ',') ? end + 1 : end;
        if (end == p && *p != '\0') break;
      }
    } else {
      std::fprintf(stderr,
                   "usage: fsync_limit --dir FRESH_DIR [--threads 1,64] [--seconds 3] [--size 4096] [--tmpfile]\n"
                   "                   [--links N] [--shared-sync]   (both imply --tmpfile) [--dir-datasync]\n"
                   "                   [--direct]   (implies --tmpfile) [--group-commit] (implies --shared-sync)\n"
                   "                   [--one-box] [--dir-group] (implies --one-box and --tmpfile)\n");
      return 2;
    }
  }
  if (opt.dir.empty()) {
    std::fprintf(stderr, "fsync_limit: --dir is required (on the mail root's filesystem)\n");
    return 2;
  }
  if (opt.group_commit) opt.shared_sync = true;
  if (opt.links > 1 || opt.shared_sync || opt.direct || g_dir_group) opt.tmpfile = true;
  if (g_dir_group && (opt.links > 1 || opt.shared_sync)) {
    std::fprintf(stderr, "fsync_limit: --dir-group shares new/ fsyncs of one-link deliveries only\n");
    return 2;
  }
  g_group_commit = opt.group_commit;
  g_dir_datasync = opt.dir_datasync;
  g_direct = opt.direct;
  make_dir(opt.dir);
  std::printf("{\"dir\": \"%s\", \"size\": %zu, \"seconds\": %.1f, \"tmpfile\": %s, \"links\": %d, "
              "\"shared_sync\": %s, \"dir_datasync\": %s, \"direct\": %s, \"group_commit\": %s, \"results\": [",
              opt.dir.c_str(), opt.size, opt.seconds, opt.tmpfile ? "true" : "false", opt.links,
              opt.shared_sync ? "true" : "false", opt.dir_datasync ? "true" : "false", opt.direct ? "true" : "false",
              opt.group_commit ? "true" : "false");
  for (size_t i = 0; i < opt.threads.size(); ++i) {
    long ops = 0;
    double cpu = 0, machine = 0;
    long switches = 0;
    const double rate = measure(opt, opt.threads[i], ops, cpu, machine, switches);
    const double per = ops > 0 ? 1000.0 / static_cast<double>(ops) : 0.0;
    std::printf("%s{\"threads\": %d, \"ops\": %ld, \"ops_per_s\": %.1f, \"cpu_ms_per_op\": %.3f, "
                "\"machine_ms_per_op\": %.3f, \"voluntary_switches_per_op\": %.2f}",
                i ? ", " : "", opt.threads[i], ops, rate, cpu * per, machine * per,
                static_cast<double>(switches) * per / 1000.0);
    std::fflush(stdout);
  }
  std::printf("]}\n");
  return 0;
}
