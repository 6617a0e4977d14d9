// micro_userdb — one passwd-file userdb lookup (the file is stat()ed per lookup and parsed
// only when it changed), in a file of `range(0)` users like the benchmark's.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "userdb/passwd_file.hpp"

namespace {

using namespace dovetail::userdb;

std::string write_users(int count) {
  char path[] = "/tmp/dovetail-micro-users.XXXXXX";
  const int fd = ::mkstemp(path);
  if (fd < 0) std::abort();
  std::string text;
  for (int i = 1; i <= count; ++i)
    text += "user" + std::to_string(i) + "@example.test:{PLAIN}x:5000:5000::/var/mail/user" +
            std::to_string(i) + "::\n";
  if (::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) std::abort();
  ::close(fd);
  return path;
}

void BM_PasswdFileLookup(benchmark::State& state) {
  const int users = static_cast<int>(state.range(0));
  const std::string path = write_users(users);
  auto driver = PasswdFileDriver::create(Role::kUserdb, "username_format=%u " + path);
  if (!driver) {
    state.SkipWithError("passwd-file driver refused the args");
    return;
  }
  LookupRequest req{"user" + std::to_string(users / 2 + 1) + "@example.test", "lmtp"};
  for (auto _ : state) {
    auto fields = (*driver)->lookup(req);
    benchmark::DoNotOptimize(fields);
  }
  state.SetItemsProcessed(state.iterations());
  ::unlink(path.c_str());
}
BENCHMARK(BM_PasswdFileLookup)->Arg(160)->Arg(10000);

}  // namespace
