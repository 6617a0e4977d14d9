#include "testlib/postgres_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace dovetail::testlib {
namespace {

namespace fs = std::filesystem;

std::string find_bindir() {
  if (const char* env = ::getenv("DOVETAIL_PG_BINDIR"); env && *env) return env;
  std::vector<fs::path> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec))
    if (fs::exists(entry.path() / "bin" / "initdb")) found.push_back(entry.path() / "bin");
  if (found.empty()) return "";  // rely on PATH
  std::sort(found.begin(), found.end(), [](const fs::path& a, const fs::path& b) {
    return std::stoi(a.parent_path().filename().string()) < std::stoi(b.parent_path().filename().string());
  });
  return found.back().string();
}

unsigned free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  unsigned port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

}  // namespace

bool PostgresServer::run(const std::vector<std::string>& argv_in, std::string* output) {
  std::vector<std::string> argv;
  if (as_postgres_user_) argv = {"runuser", "-u", "postgres", "--"};
  argv.insert(argv.end(), argv_in.begin(), argv_in.end());
  if (!bindir_.empty() && argv_in[0].find('/') == std::string::npos)
    argv[argv.size() - argv_in.size()] = bindir_ + "/" + argv_in[0];

  // Prepared before fork: the child only calls async-signal-safe functions.
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  std::vector<std::string> env_store{"LC_ALL=C"};
  for (char** e = environ; *e; ++e)
    if (std::string_view(*e).substr(0, 7) != "LC_ALL=") env_store.emplace_back(*e);
  std::vector<char*> envp;
  for (auto& e : env_store) envp.push_back(e.data());
  envp.push_back(nullptr);

  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) return false;
  pid_t pid = ::fork();
  if (pid < 0) return false;
  if (pid == 0) {
    ::dup2(pipefd[1], 1);
    ::dup2(pipefd[1], 2);
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    if (::chdir("/") != 0) ::_exit(126);  // the postgres user may not read the test's cwd
    ::execvpe(args[0], args.data(), envp.data());
    ::_exit(127);
  }
  ::close(pipefd[1]);
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(pipefd[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(pipefd[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (output) *output = out;
  bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  if (!ok) {
    std::string cmd;
    for (const auto& a : argv) cmd += a + " ";
    error_ = cmd + "failed: " + out;
  }
  return ok;
}

std::unique_ptr<PostgresServer> PostgresServer::create(std::string* error) {
  std::unique_ptr<PostgresServer> s(new PostgresServer());
  s->bindir_ = find_bindir();
  s->as_postgres_user_ = ::geteuid() == 0;

  std::string tmpl = (fs::temp_directory_path() / "dovetail-pg-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) {
    *error = "mkdtemp failed";
    return nullptr;
  }
  s->root_ = tmpl;
  s->data_dir_ = s->root_ + "/data";
  s->socket_dir_ = s->root_ + "/sock";
  s->log_file_ = s->root_ + "/postgres.log";
  fs::create_directories(s->socket_dir_);
  if (s->as_postgres_user_) {
    struct passwd* pw = ::getpwnam("postgres");
    if (!pw) {
      *error = "running as root but there is no 'postgres' system user";
      return nullptr;  // the destructor removes root_
    }
    for (const auto& p : {s->root_, s->socket_dir_})
      if (::chown(p.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
        *error = "chown " + p + " failed";
        return nullptr;
      }
  }
  if (!s->run({"initdb", "-D", s->data_dir_, "-A", "trust", "-U", "postgres", "--locale=C",
               "--encoding=UTF8", "--no-sync"},
              nullptr)) {
    *error = s->error_;
    return nullptr;
  }
  for (int attempt = 0; attempt < 3; ++attempt) {
    s->port_ = free_port();
    if (s->start()) return s;
  }
  *error = s->error_;
  return nullptr;
}

PostgresServer::~PostgresServer() {
  if (running_ && !stop())
    run({"pg_ctl", "-D", data_dir_, "-m", "immediate", "-w", "stop"}, nullptr);
  std::error_code ec;
  if (!root_.empty()) fs::remove_all(root_, ec);
}

bool PostgresServer::start() {
  std::string options = "-c listen_addresses=127.0.0.1 -p " + std::to_string(port_) + " -k " +
                        socket_dir_ + " -c fsync=off -c full_page_writes=off";
  if (!run({"pg_ctl", "-D", data_dir_, "-l", log_file_, "-w", "-t", "60", "-o", options, "start"},
           nullptr)) {
    std::ifstream log(log_file_);
    std::stringstream ss;
    ss << log.rdbuf();
    error_ += "\nserver log:\n" + ss.str();
    return false;
  }
  running_ = true;
  return true;
}

bool PostgresServer::stop() {
  if (!run({"pg_ctl", "-D", data_dir_, "-m", "fast", "-w", "-t", "60", "stop"}, nullptr)) return false;
  running_ = false;
  return true;
}

std::string PostgresServer::conninfo(std::string_view dbname) const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " dbname=" + std::string(dbname) +
         " user=postgres";
}

bool PostgresServer::psql(std::string_view dbname, std::string_view sql, std::string* output) {
  return run({"psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", socket_dir_, "-p",
              std::to_string(port_), "-U", "postgres", "-d", std::string(dbname), "-c",
              std::string(sql)},
             output);
}

}  // namespace dovetail::testlib
