// config_reader_fuzz — arbitrary text through the Dovecot config reader, then through resolve()
// and the doveconf-like dump. Checks: no crash/UB/leak; a failed load is always a kConfig error
// whose message starts with the config's name and a line number.
// Inputs that could make the reader open files outside its temp dir (absolute/parent paths
// after `!include` or `<`) are skipped: reading /dev/zero is not a parser bug.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "config/config_dump.hpp"

namespace {
std::string g_name;  // <private temp dir>/fuzz.conf: relative includes resolve in that dir
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // A private dir with two small files the input may include or read (no chdir: libFuzzer
  // resolves its corpus paths relative to the cwd).
  char tmpl[] = "/tmp/dovetail-config-fuzz-XXXXXX";
  if (!::mkdtemp(tmpl)) std::abort();
  std::string dir = tmpl;
  std::ofstream(dir + "/inc.conf") << "hostname = included\nplugin {\n  x = y\n}\n";
  std::ofstream(dir + "/value.txt") << "file value";
  g_name = dir + "/fuzz.conf";
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  bool reads_files = in.find("include") != std::string_view::npos || in.find('<') != std::string_view::npos;
  if (reads_files && (in.find('/') != std::string_view::npos || in.find("..") != std::string_view::npos ||
                      in.find('~') != std::string_view::npos || in.find('{') != std::string_view::npos))
    return 0;  // '{' too: GLOB_BRACE could name other paths
  auto cfg = dovetail::config::load_config_string(in, g_name);
  if (!cfg) {
    if (cfg.error().kind != dovetail::base::ErrorKind::kConfig) std::abort();
    if (cfg.error().message.rfind("/tmp/dovetail-config-fuzz-", 0) != 0) std::abort();
    return 0;
  }
  const auto& c = **cfg;
  for (const char* proto : {"lmtp", "lda", "imap"}) {
    auto s = c.resolve({proto, "10.1.2.3", "192.168.1.1"});
    if (!s) std::abort();
    auto t = c.resolve({proto, "::1", ""});
    if (!t) std::abort();
  }
  (void)dovetail::config::dump_config(c, dovetail::config::DumpScope::kChanged, dovetail::config::ShowSecrets::kNo);
  (void)dovetail::config::dump_config(c, dovetail::config::DumpScope::kAll, dovetail::config::ShowSecrets::kYes);
  (void)dovetail::config::dump_key(c, "service/lmtp/process_min_avail");
  return 0;
}
